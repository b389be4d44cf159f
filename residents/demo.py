"""Demo data of the residents' front door (idempotent): the demo resident (grids.demo's
"resident") becomes a verified resident of the first community with the privacy notice
accepted, and the result of a closed incident in a published category is written for the public
(办理公开). The lead wires `load_demo()` into the demo command after grids' and incidents'."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from grids.models import Region
from incidents.models import Incident, IncidentState
from residents.models import ResidentProfile
from residents.privacy import PRIVACY_NOTICE_VERSION

DEMO_RESULT = "已安排环卫人员清运，并增设分类垃圾桶两个。"


def load_demo() -> None:
    with transaction.atomic():
        resident = User.objects.filter(username="resident").first()
        community = (
            Region.objects.filter(level=Region.Level.COMMUNITY)
            .defer("boundary")
            .order_by("code")
            .first()
        )
        if resident is not None and community is not None:
            if resident.phone_verified_at is None or resident.home_region_id is None:
                resident.phone_verified_at = resident.phone_verified_at or timezone.now()
                resident.home_region = resident.home_region or community
                resident.save(update_fields=["phone_verified_at", "home_region"])
            ResidentProfile.objects.get_or_create(
                user=resident,
                defaults={
                    "privacy_notice_version": PRIVACY_NOTICE_VERSION,
                    "privacy_accepted_at": timezone.now(),
                },
            )
        closed = (
            Incident.objects.filter(
                state=IncidentState.CLOSED,
                merged_into__isnull=True,
                category__publish_results=True,
                public_result="",
            )
            .order_by("pk")
            .first()
        )
        if closed is not None and not Incident.objects.exclude(public_result="").exists():
            Incident.objects.filter(pk=closed.pk).update(public_result=DEMO_RESULT)
