# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import os
import re

from trytond.i18n import gettext
from trytond.pool import PoolMeta

from .exceptions import UploadValidationError

MAX_PHOTO_SIZE = 5 * 1024 * 1024
# Photos an account may hold before submitting them (a request takes 6)
MAX_PENDING_UPLOADS = 12
# Days after which photos never submitted are deleted
PENDING_UPLOAD_DAYS = 2
IMAGE_EXTENSIONS = {
    'image/jpeg': '.jpg',
    'image/png': '.png',
    'image/webp': '.webp',
    }
EXTENSION_TYPES = {e: t for t, e in IMAGE_EXTENSIONS.items()}


def sniff_image(data):
    "Return the MIME type of a JPEG, PNG or WebP image from its content"
    if data[:3] == b'\xff\xd8\xff':
        return 'image/jpeg'
    if data[:8] == b'\x89PNG\r\n\x1a\n':
        return 'image/png'
    if len(data) >= 12 and data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'image/webp'
    return None


def photo_name(filename, mimetype):
    "A safe file name for an upload whose extension matches its content"
    stem = os.path.splitext(os.path.basename(
            (filename or '').replace('\\', '/')))[0]
    stem = re.sub(r'[^\w.-]+', '_', stem).strip('._')[:80] or 'photo'
    return stem + IMAGE_EXTENSIONS[mimetype]


class Attachment(metaclass=PoolMeta):
    __name__ = 'ir.attachment'

    @classmethod
    def upload_photo(cls, owner, filename, data):
        "Store the photo uploaded by owner (a record) and return it"
        mimetype = sniff_image(data)
        if not mimetype:
            raise UploadValidationError(gettext(
                    'property_community.msg_upload_not_image'))
        if len(data) > MAX_PHOTO_SIZE:
            raise UploadValidationError(gettext(
                    'property_community.msg_upload_too_large',
                    max=MAX_PHOTO_SIZE // (1024 * 1024)))
        if owner.__name__ == 'web.user' and cls.search_count([
                    ('resource', '=', str(owner)),
                    ], limit=MAX_PENDING_UPLOADS) >= MAX_PENDING_UPLOADS:
            raise UploadValidationError(gettext(
                    'property_community.msg_upload_too_many',
                    max=MAX_PENDING_UPLOADS))
        attachment = cls(
            resource=owner, type='data', name=photo_name(filename, mimetype),
            data=data)
        attachment.save()
        return attachment

    @classmethod
    def clean_uploads(cls, date=None):
        "Delete the photos uploaded by accounts and never submitted"
        if date is None:
            date = dt.datetime.now() - dt.timedelta(days=PENDING_UPLOAD_DAYS)
        # Uploads are made by the API (root); attachments that back-office
        # users add to an account are kept.
        cls.delete(cls.search([
                    ('resource', 'like', 'web.user,%'),
                    ('create_uid', '=', 0),
                    ('create_date', '<', date),
                    ]))

    @property
    def image_mimetype(self):
        return EXTENSION_TYPES.get(os.path.splitext(self.name or '')[1])
