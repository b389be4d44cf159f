"""Photos and images from uploads: checked by content (never by name), re-encoded, stripped,
thumbnailed.

`prepare_photo(upload)` reads one upload in memory and returns ready JPEG bytes and a thumbnail
(with the GPS position read from EXIF before it is stripped). A bad photo raises
ValidationFailed with a field message; a decompression bomb is refused before its pixels are
decoded. Used by incidents.photos (incident photos) and core.uploads (images among documents).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.exceptions import ValidationFailed

try:  # HEIC/HEIF from phones (pillow-heif); without it such photos are refused as unknown.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is in requirements.txt
    pass

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}
MAX_PIXELS = 40_000_000  # 40 megapixels: larger than any phone camera, far below a bomb
LONG_SIDE = 2560  # stored photos are scaled down to this long side
THUMB_SIDE = 320
JPEG_QUALITY = 85
GPS_IFD = 0x8825
# Pillow's own guard, for any code that opens an image: it warns past MAX_PIXELS and refuses
# twice that before decoding (prepare_photo turns the warning into a refusal as well).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class PreparedPhoto:
    image: bytes  # JPEG, no EXIF
    thumbnail: bytes  # JPEG
    width: int
    height: int
    gps: tuple[float, float] | None  # (lat, lng) read before the EXIF was stripped


def _refuse(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, extra={field: [message]})


def _rational(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        numerator, denominator = value
        return float(numerator) / float(denominator)


def _gps_from_exif(image: Image.Image) -> tuple[float, float] | None:
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
    except Exception:  # broken EXIF simply means no position
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    try:
        lat = sum(_rational(part) / 60**i for i, part in enumerate(gps[2]))
        lng = sum(_rational(part) / 60**i for i, part in enumerate(gps[4]))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lng = -lng
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    return round(lat, 7), round(lng, 7)


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def prepare_photo(upload, *, field: str = "photos") -> PreparedPhoto:
    """Check one upload and turn it into a clean JPEG and a thumbnail (in memory)."""
    size = getattr(upload, "size", None)
    limit = settings.PHOTO_MAX_BYTES
    if size is not None and size > limit:
        raise _refuse(
            _("The photo is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
            field,
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(
            _("The photo is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
            field,
        )
    not_a_photo = _("This file is not a photo: use JPEG, PNG, WebP or HEIC.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise _refuse(not_a_photo, field)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            gps = _gps_from_exif(image)
            image.load()
            image = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _refuse(
                _("The photo has too many pixels (at most %(mp)s megapixels).")
                % {"mp": MAX_PIXELS // 1_000_000},
                field,
            ) from exc
        except ValidationFailed:
            raise
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise _refuse(not_a_photo, field) from exc
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode == "L":
        image = image.convert("RGB")
    image.thumbnail((LONG_SIDE, LONG_SIDE))
    stored = _encode(image)  # a fresh JPEG: no EXIF, no GPS, no maker notes
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return PreparedPhoto(
        image=stored, thumbnail=_encode(thumb), width=image.width, height=image.height, gps=gps
    )
