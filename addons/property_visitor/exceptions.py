# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class VisitError(UserError):
    pass


class VisitValidationError(ValidationError):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class HostNotFound(VisitError):
    pass


class PassError(UserError):
    def __init__(self, message, code='conflict'):
        super().__init__(message)
        self.code = code


class SigningKeyError(PassError):
    def __init__(self, message, code='no_key'):
        super().__init__(message, code=code)


class BatchError(UserError):
    pass


class GateError(UserError):
    pass


class GateAuthenticationError(GateError):
    "The gate's key changed or the gate was disabled during a scan"

    def __init__(self, message, code='unauthenticated'):
        super().__init__(message)
        self.code = code
