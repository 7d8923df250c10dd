# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class BillingConfigurationError(UserError):
    pass


class TariffValidationError(ValidationError):
    pass


class MeterValidationError(ValidationError):
    pass


class ReadingValidationError(ValidationError):
    pass


class BillingRunError(UserError):
    pass


class PaymentError(UserError):
    """A bill cannot be paid online now

    code: not_configured, wechat_required, nothing_to_pay, unavailable,
    unknown_order or other_merchant."""

    def __init__(self, message, description='', code=None):
        super().__init__(message, description)
        self.code = code


class RefundError(UserError):
    pass


class RefundValidationError(ValidationError):
    pass


class BillingReportError(UserError):
    pass


class NotificationError(UserError):
    pass
