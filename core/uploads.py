"""Uploaded documents (petition attachments ...): checked by content, never by name alone.

`attachment_clean(upload)` returns what may be stored: images are decoded and re-encoded as a
fresh JPEG without metadata (core.images: bombs and non-images are refused); PDF and Word
files must start with their format's signature; text must be text (UTF-8 or GB18030, no NUL
or other control bytes). Anything else raises ValidationFailed with a field message. Stored
documents are only ever served as downloads (Content-Disposition: attachment, nosniff).
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from core.images import prepare_photo

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".webp"}
SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".docx": (b"PK\x03\x04",),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}
TEXT_SUFFIXES = {".txt"}
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"


def _refuse(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, extra={field: [message]})


def attachment_clean(upload, *, field: str = "attachments") -> File:
    """The file to store for `upload`, or ValidationFailed (see the module docstring)."""
    name = PurePath(upload.name or "").name or "file"
    suffix = PurePath(name).suffix.lower()
    limit = settings.PHOTO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _refuse(_("An attachment is too large."), field)
    bad = _("The attachment's content does not match its type: %(name)s") % {"name": name}
    if suffix in IMAGE_SUFFIXES:
        prepared = prepare_photo(upload, field=field)
        return ContentFile(prepared.image, name=f"{PurePath(name).stem}.jpg")
    upload.seek(0)
    head = upload.read(limit + 1)
    upload.seek(0)
    if len(head) > limit:
        raise _refuse(_("An attachment is too large."), field)
    if suffix in SIGNATURES:
        if not head.startswith(SIGNATURES[suffix]):
            raise _refuse(bad, field)
        return upload
    if suffix in TEXT_SUFFIXES:
        for encoding in ("utf-8", "gb18030"):
            try:
                head.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise _refuse(bad, field)
        if any(byte in CONTROL_BYTES for byte in head):
            raise _refuse(bad, field)
        return upload
    raise _refuse(_("Attach PDF, Word, text or image files only."), field)
