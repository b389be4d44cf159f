"""Builders for the incident tests: a small city with staff, categories and photos."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

# Points of tests.builders.make_region_tree (lat, lng).
IN_A1_1 = (24.505, 117.605)  # cell 西桥1网格
IN_A1_2 = (24.505, 117.615)  # cell 西桥2网格
IN_A2_1 = (24.505, 117.625)  # cell 金品1网格
IN_B1_1 = (24.505, 117.645)  # cell 东铺头1网格
IN_B1_NO_CELL = (24.505, 117.655)  # 东铺头社区, in no cell (属地兜底)
OUTSIDE = (25.5, 118.5)


def jpeg_upload(name: str = "photo.jpg", *, size=(64, 48), exif: bytes | None = None):
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGB", size, (120, 160, 90))
    if exif is not None:
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def gps_exif(lat: float, lng: float) -> bytes:
    from PIL import Image

    def dms(value: float):
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = round((value - degrees - minutes / 60) * 3600, 3)
        return (float(degrees), float(minutes), seconds)

    exif = Image.Exif()
    exif.get_ifd(0x8825).update(
        {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lng >= 0 else "W", 4: dms(lng)}
    )
    return exif.tobytes()


@pytest.fixture
def categories(db):
    from incidents.loaders import load_categories
    from incidents.models import Category

    load_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def city(region_tree, categories):
    """Regions and cells of tests.builders plus the staff the loop needs."""
    from incidents.tests.factories import build_city

    return build_city(region_tree, categories)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run a service and the tasks it enqueued (eagerly, like a worker would)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
