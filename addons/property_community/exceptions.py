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
    "WeChat refused a call; errcode is WeChat's code (None: no answer)"

    def __init__(self, message, description='', errcode=None):
        super().__init__(message, description)
        self.errcode = errcode


class WeChatCodeError(WeChatError):
    "The code obtained by the mini-program is invalid, used or expired"


class CertificationError(UserError):
    pass


class CertificationValidationError(ValidationError):
    "Invalid certification input; field names the API field at fault"

    def __init__(self, message, description='', field=None):
        super().__init__(message, description)
        self.field = field


class UploadValidationError(ValidationError):
    pass


class SheetError(UserError):
    "A file to import is not a readable spreadsheet of the expected columns"
