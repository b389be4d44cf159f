"""Builders for deliberation's tests: verified residents, staff, proposals, rounds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from deliberation import services
from deliberation.models import DeliberationPolicy, ParticipantKind, ProposalCategory
from grids.models import Region
from tests.builders import make_user

_numbers = count(1)


def category() -> ProposalCategory:
    return ProposalCategory.objects.get_or_create(
        code="environment", defaults={"name": "环境卫生"}
    )[0]


def kind(code: str = "resident_rep", name: str = "居民代表") -> ParticipantKind:
    return ParticipantKind.objects.get_or_create(code=code, defaults={"name": name})[0]


def policy(**values) -> DeliberationPolicy:
    row = DeliberationPolicy.get()
    for key, value in values.items():
        setattr(row, key, value)
    row.save()
    return row


def resident(name: str, home: Region | None, *, verified: bool = True, **extra):
    number = next(_numbers)
    return make_user(
        name,
        roles=["resident"],
        phone=f"139{number:08d}",
        display_name=extra.pop("display_name", f"居民{name}"),
        home_region=home,
        phone_verified_at=timezone.now() if verified else None,
        **extra,
    )


def staff(name: str, region: Region, *, role: str = "dispatcher"):
    return make_user(name, roles=[role], region=region)


def proposal(author, **kwargs):
    values = {
        "title": "小区东门路灯不亮",
        "description": "东门到3号楼的路灯坏了两周，晚上很黑。",
        "category": category(),
        "lat": 24.505,
        "lng": 117.605,
        "address": "东门",
    }
    values.update(kwargs)
    return services.proposal_submit(actor=author, **values)


def budget_round(actor, region: Region, *, rule: str = "votes", total: str = "100000", **dates):
    start = timezone.now() - timedelta(minutes=1)
    values = {
        "collect_opens_at": start,
        "collect_closes_at": start + timedelta(days=10),
        "review_closes_at": start + timedelta(days=20),
        "vote_opens_at": start + timedelta(days=20),
        "vote_closes_at": start + timedelta(days=30),
    }
    values.update(dates)
    return services.round_create(
        actor=actor,
        region=region,
        title="2027年社区微更新",
        total=Decimal(total),
        rule=rule,
        votes_per_voter=2,
        **values,
    )
