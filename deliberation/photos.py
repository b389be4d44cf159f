"""Photos of proposals and of decisions' progress: checked by content and re-encoded without
EXIF (core.images), saved inside the service's transaction; the files are removed again if it
rolls back."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from core.images import PreparedPhoto, prepare_photo

MAX_PHOTOS = 6


def prepare(uploads: Sequence, *, field: str = "photos") -> list[PreparedPhoto]:
    uploads = list(uploads or ())
    if len(uploads) > MAX_PHOTOS:
        message = _("At most %(n)s photos.") % {"n": MAX_PHOTOS}
        raise ValidationFailed(message, extra={field: [message]})
    return [prepare_photo(upload, field=field) for upload in uploads]


def save(photo: models.Model, prepared: PreparedPhoto, saved: list[str]) -> None:
    name = uuid.uuid4().hex
    photo.image.save(f"{name}.jpg", ContentFile(prepared.image), save=False)  # type: ignore[attr-defined]
    saved.append(photo.image.name)  # type: ignore[attr-defined]
    photo.thumbnail.save(f"{name}_t.jpg", ContentFile(prepared.thumbnail), save=False)  # type: ignore[attr-defined]
    saved.append(photo.thumbnail.name)  # type: ignore[attr-defined]
    photo.save()


@contextlib.contextmanager
def files_removed_on_error() -> Iterator[list[str]]:
    saved: list[str] = []
    try:
        yield saved
    except BaseException:
        for name in saved:
            with contextlib.suppress(OSError):
                default_storage.delete(name)
        raise
