"""Demo disputes for screening, created through the services (colours, alerts, timeline and
deadlines are real), and the demo community police officer ("police", password as the other
demo users) paired with the first cell of 西桥社区 when that cell has none. Called after the demo
city and users exist (grids.demo). Idempotent: a demo dispute whose story is already there is
skipped; the officer is created once."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Role, RoleCode, User
from grids.demo import DEMO_PASSWORD
from grids.models import GridCell
from screening import services
from screening.models import Dispute

COMMUNITY = "350602001001"
STORY_KNIFE = "两户因楼道堆物多次争吵，一方扬言要拿刀解决"
STORY_WAGES = "装修队十余名工人聚集讨要工资"
STORY_NOISE = "楼上夜间噪声，邻里口角"


def _police(cell: GridCell) -> User:
    user = User.objects.filter(username="police").first()
    if user is None:
        user = User(username="police", display_name="陈警官")
        if not User.objects.filter(phone="13800000021").exists():
            user.phone = "13800000021"
        user.set_password(DEMO_PASSWORD)
        user.save()
        role, _created = Role.objects.get_or_create(code=RoleCode.POLICE_OFFICER)
        user.roles.add(role)
    if cell.police_officer_id is None:
        cell.police_officer = user
        cell.save(update_fields=["police_officer", "updated_at"])
    return user


def load_demo() -> None:
    worker = User.objects.filter(username="gridworker").first()
    cell = GridCell.objects.filter(community__code=COMMUNITY).order_by("code").first()
    if worker is None or cell is None:
        return
    with transaction.atomic():
        _police(cell)
        existing = set(Dispute.objects.values_list("story", flat=True))
        if STORY_KNIFE not in existing:
            services.dispute_register(
                actor=worker,
                kind_code="neighbour",
                place="西桥社区5号楼楼道",
                story=STORY_KNIFE,
                factor_codes=["weapon", "repeated"],
                grid_cell_id=cell.pk,
                parties=[
                    {"side": "applicant", "name": "周建平", "phone": "13900000101"},
                    {"side": "respondent", "name": "许国强", "phone": "13900000102"},
                ],
            )
        if STORY_WAGES not in existing:
            services.dispute_register(
                actor=worker,
                kind_code="labour",
                place="西桥社区12号楼装修工地",
                story=STORY_WAGES,
                factor_codes=["group"],
                grid_cell_id=cell.pk,
                parties=[
                    {"side": "applicant", "name": "刘师傅", "phone": "13900000103"},
                    {"side": "respondent", "name": "某装修公司"},
                ],
            )
        if STORY_NOISE not in existing:
            dispute = services.dispute_register(
                actor=worker,
                kind_code="neighbour",
                place="西桥社区3号楼",
                story=STORY_NOISE,
                grid_cell_id=cell.pk,
                parties=[
                    {"side": "applicant", "name": "林阿姨", "vulnerable": True},
                    {"side": "respondent", "name": "黄先生"},
                ],
            )
            services.dispute_mediate_on_spot(
                actor=worker, dispute_id=dispute.pk, note="上门劝说，约定夜间十点后不再装修"
            )
            services.dispute_close(
                actor=worker, dispute_id=dispute.pk, outcome="resolved", note="当场化解"
            )
