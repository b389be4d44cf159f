"""Demo data of resident services: a community service handler, a legal adviser and a family
doctor (demo logins, the demo password), their weekly consultation hours, and a few requests of
the demo resident in various states, made through the services. Idempotent: users, hours and
requests that are already there are left alone."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from grids.models import Region
from resident_services import services
from resident_services.models import ConsultationHours, ServiceItem, ServiceProvider

COMMUNITY = "350602001001"  # the demo resident's community
STREET = "350602001000"
# username, display name, region, phone, provider kind (None: community staff), shown as
DEMO_HANDLERS = [
    ("service", "周晓红", COMMUNITY, "13800000021", None, ""),
    ("lawyer", "张律师", STREET, "13800000022", "legal_adviser", "张律师(村居法律顾问)"),
    ("doctor", "李医生", COMMUNITY, "13800000023", "family_doctor", "李医生(家庭医生)"),
]
DEMO_DETAILS = "【演示】"


def _user(username: str, name: str, region: Region, phone: str) -> User:
    from grids.demo import DEMO_PASSWORD

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, display_name=name, scope_region=region)
        if not User.objects.filter(phone=phone).exists():
            user.phone = phone
        user.set_password(DEMO_PASSWORD)
        user.save()
    role, _created = Role.objects.get_or_create(code="service_handler")
    user.roles.add(role)
    return user


def _pdf(name: str) -> ContentFile:
    return ContentFile(b"%PDF-1.4\n% demo\n", name=name)


def load_demo(data: dict[str, Any] | None = None, stdout=None) -> None:
    regions = {r.code: r for r in Region.objects.filter(code__in=[COMMUNITY, STREET])}
    if len(regions) < 2:
        if stdout is not None:
            stdout.write("resident_services: demo regions missing; skipped")
        return
    with transaction.atomic():
        users = {}
        for username, name, code, phone, kind, title in DEMO_HANDLERS:
            user = users[username] = _user(username, name, regions[code], phone)
            if kind:
                ServiceProvider.objects.get_or_create(
                    user=user, defaults={"kind": kind, "title": title}
                )
        for username, weekday, start, end in (
            ("lawyer", 1, time(9), time(11)),
            ("doctor", 3, time(14), time(16)),
        ):
            ConsultationHours.objects.get_or_create(
                provider=users[username],
                community=regions[COMMUNITY],
                weekday=weekday,
                defaults={
                    "start": start,
                    "end": end,
                    "slot_minutes": 30,
                    "place": "社区服务站二楼",
                },
            )
        resident = User.objects.filter(username="resident").first()
        if (
            resident is None
            or resident.service_requests.filter(details__startswith=DEMO_DETAILS).exists()
        ):
            return
        if resident.home_region_id is None:
            resident.home_region = regions[COMMUNITY]
            resident.phone_verified_at = resident.phone_verified_at or timezone.now()
            resident.save(update_fields=["home_region", "phone_verified_at"])
        items = {item.code: item for item in ServiceItem.objects.all()}
        staff = users["service"]
        open_one = services.request_submit(
            actor=resident,
            item_id=items["residence-certificate"].pk,
            details=f"{DEMO_DETAILS}孩子入学需要居住证明",
            attachments=[_pdf("身份证.pdf"), _pdf("租房合同.pdf")],
        )
        services.request_accept(actor=staff, request_id=open_one.pk)
        waiting = services.request_submit(
            actor=resident,
            item_id=items["elderly-allowance"].pk,
            details=f"{DEMO_DETAILS}为母亲申领高龄津贴",
            attachments=[_pdf("身份证.pdf")],
        )
        services.request_ask_materials(
            actor=staff, request_id=waiting.pk, missing="请补充户口簿和银行卡复印件"
        )
        done = services.request_submit(
            actor=resident,
            item_id=items["repair-referral"].pk,
            details=f"{DEMO_DETAILS}家里热水器不出热水",
        )
        services.request_accept(actor=staff, request_id=done.pk)
        services.request_complete(
            actor=staff, request_id=done.pk, result="已联系志愿维修队,周六上门维修。"
        )
    if stdout is not None:
        stdout.write("resident_services: demo handlers, hours and requests loaded")
