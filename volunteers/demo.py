"""Demo data of volunteers (load_demo() is idempotent; the lead wires it into the demo command,
after the grids data): a demo volunteer login `volunteer` (password grids.demo.DEMO_PASSWORD),
a police officer login `police` paired with 西桥's first cell, a 厝边阿姨 team and a patrol
team serving the cell, a patrol task tomorrow evening and a watch post with its week of shifts.
"""

from __future__ import annotations

from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleCode, User
from grids.demo import DEMO_PASSWORD
from grids.models import GridCell, Region
from volunteers import services
from volunteers.models import DutyPost, PatrolTask, Team, TeamKind, TeamMember, Volunteer

COMMUNITY = "350602001001"  # 西桥社区 in the demo city


def _user(username: str, name: str, phone: str, roles: list[str], **extra) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, display_name=name, **extra)
        if not User.objects.filter(phone=phone).exists():
            user.phone = phone
        user.set_password(DEMO_PASSWORD)
        user.save()
    for code in roles:
        role, _created = Role.objects.get_or_create(code=code)
        user.roles.add(role)
    return user


@transaction.atomic
def load_demo() -> None:
    community = Region.objects.filter(code=COMMUNITY).first()
    organiser = User.objects.filter(username="dispatcher").first()
    cell = GridCell.objects.filter(community=community).order_by("code").first()
    if community is None or organiser is None or cell is None:
        return  # the grids demo is not loaded
    now = timezone.now()
    resident = _user(
        "volunteer",
        "陈志愿",
        "13800000021",
        [RoleCode.RESIDENT],
        phone_verified_at=now,
        home_region=community,
    )
    if not Volunteer.objects.filter(user=resident).exists():
        volunteer = services.volunteer_apply(
            actor=resident,
            community_id=community.pk,
            real_name="陈志愿",
            skills="巡逻、急救",
            availability="工作日晚上、周末",
        )
        services.volunteer_approve(actor=organiser, volunteer_id=volunteer.pk)
    police = _user(
        "police", "周警官", "13800000022", [RoleCode.POLICE_OFFICER], scope_region=community
    )
    if cell.police_officer_id is None:
        cell.police_officer = police
        cell.save(update_fields=["police_officer", "updated_at"])
    for code, name in (("neighbour_aunties", "西桥厝边阿姨巡防队"), ("patrol", "西桥治安巡防队")):
        kind = TeamKind.objects.filter(code=code).first()
        if kind is None or Team.objects.filter(region=community, name=name).exists():
            continue
        team = Team.objects.create(
            name=name, kind=kind, region=community, region_code=community.code, leader=resident
        )
        team.cells.set([cell])
        TeamMember.objects.get_or_create(team=team, user=resident, defaults={"kind": "volunteer"})
        TeamMember.objects.get_or_create(team=team, user=police, defaults={"kind": "police"})
    if not PatrolTask.objects.filter(
        title="西桥夜间巡防", state="open", starts_at__gt=now
    ).exists():
        start = (now + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
        services.task_post(
            actor=organiser,
            title="西桥夜间巡防",
            description="沿西桥路巡查消防通道、井盖和路灯。",
            level="community",
            region_id=community.pk,
            cell_ids=[cell.pk],
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            places=6,
        )
    post = DutyPost.objects.filter(name="西桥路口守望岗").first()
    if post is None:
        post = services.post_save(
            actor=organiser,
            name="西桥路口守望岗",
            kind=DutyPost.Kind.WATCH,
            region_id=community.pk,
            lat=24.505,
            lng=117.605,
            shift_start=time(19, 0),
            shift_end=time(21, 0),
            places=2,
        )
    services.shifts_generate(post_id=post.pk)
