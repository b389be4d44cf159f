"""Photo uploads of incidents: checked by content (never by name), re-encoded, stripped,
thumbnailed.

`prepare_photos(files)` reads and checks every upload in memory and returns ready JPEG bytes
(with the GPS position read from EXIF before it is stripped); nothing touches storage until a
service saves them inside its transaction (`save_photos`). A bad photo raises ValidationFailed
with a field message; a decompression bomb is refused before its pixels are decoded. The check
of one photo (`prepare_photo`) lives in core.images, shared with core.uploads.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from core.images import (  # noqa: F401 - re-exported: incidents.photos is their public path
    ALLOWED_FORMATS,
    GPS_IFD,
    JPEG_QUALITY,
    LONG_SIDE,
    MAX_PIXELS,
    THUMB_SIDE,
    PreparedPhoto,
    prepare_photo,
)

MAX_PHOTOS = 9


def _refuse(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, extra={field: [message]})


def prepare_photos(
    uploads: Sequence, *, field: str = "photos", required: bool = False
) -> list[PreparedPhoto]:
    """Check every upload (all or nothing)."""
    uploads = list(uploads or ())
    if required and not uploads:
        raise _refuse(_("At least one photo is required."), field)
    if len(uploads) > MAX_PHOTOS:
        raise _refuse(_("At most %(n)s photos.") % {"n": MAX_PHOTOS}, field)
    return [prepare_photo(upload, field=field) for upload in uploads]


def photo_location(upload) -> tuple[float, float] | None:
    """The GPS position in a photo's EXIF, to offer as the report's location (pages call this
    before the reporter agrees to use it). None when there is none or the file is no photo."""
    try:
        return prepare_photo(upload).gps
    except ValidationFailed:
        return None
    finally:
        upload.seek(0)


def save_photos(*, incident, event, photos: Sequence[PreparedPhoto], saved: list[str]) -> list:
    """Store prepared photos for `event`. Every stored file name is appended to `saved` so the
    caller can delete them if its transaction rolls back."""
    from incidents.models import IncidentPhoto

    created = []
    for prepared in photos:
        name = uuid.uuid4().hex
        photo = IncidentPhoto(incident=incident, event=event)
        photo.image.save(f"{name}.jpg", ContentFile(prepared.image), save=False)
        saved.append(photo.image.name)
        photo.thumbnail.save(f"{name}_t.jpg", ContentFile(prepared.thumbnail), save=False)
        saved.append(photo.thumbnail.name)
        photo.save()
        created.append(photo)
    return created


def delete_files(names: Sequence[str]) -> None:
    """Remove stored files (after a rolled-back transaction)."""
    from django.core.files.storage import default_storage

    for name in names:
        with contextlib.suppress(OSError):
            default_storage.delete(name)
