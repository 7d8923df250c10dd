# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class OccupancyValidationError(ValidationError):
    pass


class UnitValidationError(ValidationError):
    pass


class AccountError(UserError):
    pass


class WeChatError(UserError):
    pass
