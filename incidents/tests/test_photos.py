"""Photo uploads are checked by content, re-encoded to JPEG without EXIF, and thumbnailed."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from core.exceptions import ValidationFailed
from incidents import photos
from incidents.tests.conftest import gps_exif, jpeg_upload
from tests.builders import png_claiming


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def upload(image: Image.Image, fmt: str, name: str, **save) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.from_pillow(image).save(buffer, quality=60)
    else:
        image.save(buffer, format=fmt, **save)
    return SimpleUploadedFile(name, buffer.getvalue())


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB"), ("HEIF", "RGB")]
)
def test_accepted_formats_become_clean_jpegs(fmt, mode):
    image = Image.new(mode, (800, 600), (10, 200, 30) if mode == "RGB" else (10, 200, 30, 128))
    prepared = photos.prepare_photo(upload(image, fmt, "IMG_0001.heic"))  # the name is ignored
    stored = opened(prepared.image)
    assert stored.format == "JPEG" and stored.size == (800, 600)
    assert not stored.getexif()
    thumb = opened(prepared.thumbnail)
    assert thumb.format == "JPEG" and max(thumb.size) == photos.THUMB_SIDE


def test_exif_gps_is_read_then_stripped():
    prepared = photos.prepare_photo(jpeg_upload(exif=gps_exif(24.505, 117.615)))
    lat, lng = prepared.gps
    assert abs(lat - 24.505) < 1e-5 and abs(lng - 117.615) < 1e-5
    assert not opened(prepared.image).getexif()
    assert photos.photo_location(jpeg_upload(exif=gps_exif(24.505, 117.615)))
    assert photos.photo_location(jpeg_upload()) is None


def test_large_photos_are_scaled_down():
    prepared = photos.prepare_photo(upload(Image.new("RGB", (4000, 3000)), "JPEG", "big.jpg"))
    assert max(opened(prepared.image).size) == photos.LONG_SIDE


def test_a_text_file_named_jpg_is_refused():
    fake = SimpleUploadedFile("photo.jpg", b"GIF89a? no, just text", content_type="image/jpeg")
    with pytest.raises(ValidationFailed) as error:
        photos.prepare_photo(fake)
    assert "photos" in error.value.extra
    assert "JPEG" in error.value.message


def test_other_image_formats_are_refused():
    with pytest.raises(ValidationFailed):
        photos.prepare_photo(upload(Image.new("RGB", (10, 10)), "GIF", "anim.gif"))


def test_too_many_bytes_is_refused(settings):
    settings.PHOTO_MAX_BYTES = 1000
    with pytest.raises(ValidationFailed) as error:
        photos.prepare_photo(upload(Image.effect_noise((200, 200), 50), "PNG", "noise.png"))
    assert "MB" in error.value.message


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = SimpleUploadedFile("bomb.png", png_claiming(100_000, 100_000))
    assert bomb.size < 1000
    with pytest.raises(ValidationFailed) as error:
        photos.prepare_photo(bomb)
    assert "pixels" in error.value.message
    # Above our limit but below Pillow's own: refused by our check.
    with pytest.raises(ValidationFailed):
        photos.prepare_photo(SimpleUploadedFile("big.png", png_claiming(8000, 8000)))


def test_at_most_nine_photos_and_required_when_asked():
    with pytest.raises(ValidationFailed):
        photos.prepare_photos([jpeg_upload() for _ in range(photos.MAX_PHOTOS + 1)])
    with pytest.raises(ValidationFailed):
        photos.prepare_photos([], required=True)
    assert len(photos.prepare_photos([jpeg_upload(), jpeg_upload()])) == 2
