"""Builders for the resident-services tests: the small city of tests.builders with residents
who live in it, community staff, a legal adviser, a family doctor and supervisors."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from resident_services.models import ConsultationHours, ServiceItem, ServiceProvider
from tests.builders import make_user


def pdf_upload(name: str = "id-card.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test\n", content_type="application/pdf")


def jpeg_upload(name: str = "photo.jpg") -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def provider(username: str, *, kind: str, region, phone: str | None = None, title: str = ""):
    user = make_user(username, roles=["service_handler"], region=region, phone=phone)
    ServiceProvider.objects.create(user=user, kind=kind, title=title or username)
    return user


def build_services(tree: dict) -> SimpleNamespace:
    now = timezone.now()
    resident = make_user("svc_resident", roles=["resident"], phone="13800000101")
    resident.home_region = tree["a1"]
    resident.phone_verified_at = now
    resident.save()
    resident2 = make_user("svc_resident2", roles=["resident"], phone="13800000102")
    resident2.home_region = tree["b1"]
    resident2.phone_verified_at = now
    resident2.save()
    return SimpleNamespace(
        **tree,
        resident=resident,
        resident2=resident2,
        staff_a1=make_user(
            "svc_staff_a1", roles=["service_handler"], region=tree["a1"], phone="13700000101"
        ),
        staff_b1=make_user(
            "svc_staff_b1", roles=["service_handler"], region=tree["b1"], phone="13700000102"
        ),
        lawyer=provider(
            "svc_lawyer", kind="legal_adviser", region=tree["street_a"], title="张律师"
        ),
        doctor=provider("svc_doctor", kind="family_doctor", region=tree["a1"], title="李医生"),
        supervisor_a=make_user("svc_supervisor_a", roles=["supervisor"], region=tree["street_a"]),
        supervisor_district=make_user(
            "svc_supervisor_d", roles=["supervisor"], region=tree["district"]
        ),
        admin=make_user("svc_admin", roles=["admin"]),
        certificate=ServiceItem.objects.get(code="residence-certificate"),  # own community
        allowance=ServiceItem.objects.get(code="elderly-allowance"),  # any community
        legal=ServiceItem.objects.get(code="legal-consultation"),  # legal adviser
        repair=ServiceItem.objects.get(code="repair-referral"),  # no materials
    )


def hours_for(user, community, *, weekday: int | None = None, start=time(9), end=time(11)):
    """Weekly hours on `weekday` (default: tomorrow's weekday, so that slots exist)."""
    if weekday is None:
        weekday = (timezone.localtime().date() + timedelta(days=1)).weekday()
    return ConsultationHours.objects.create(
        provider=user, community=community, weekday=weekday, start=start, end=end, slot_minutes=30
    )


def next_slot(hours: ConsultationHours) -> datetime:
    """The first slot of `hours` from tomorrow on."""
    day = timezone.localtime().date() + timedelta(days=1)
    while day.weekday() != hours.weekday:
        day += timedelta(days=1)
    return datetime.combine(day, hours.start, tzinfo=timezone.get_current_timezone())
