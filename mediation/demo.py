"""Demo data of the mediation app, called by `manage.py load_demo_city` after the grids data.

Creates the rooms of data["mediation_rooms"] (placed at the centre of the region they serve),
puts the demo `mediator` in 西桥街道两代表一委员调解室 and 西桥社区评理说事点, and adds three
cases (one applied online by `resident`, one being mediated, one settled and closed).
Idempotent: rooms are matched by name, cases by their facts.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from grids.models import Region
from incidents.models import Category
from mediation import services
from mediation.models import CaseParty, MediationCase, MediationRoom, RoomMediator

GENERAL_DISPUTES = ["1001", "1002", "1003", "1004", "1005", "1007"]
# Which disputes each demo room takes; medical disputes (1006) only at the city's room.
CATEGORIES_BY_TYPE = {
    "评理说事点": GENERAL_DISPUTES,
    "两代表一委员调解室": GENERAL_DISPUTES,
    "乡贤调解室": GENERAL_DISPUTES,
    "家事纠纷调解室": ["1002"],
    "医患纠纷调解": ["1006"],
    "警调对接": ["1001", "1007"],
}
CAPACITY_BY_LEVEL = {"village": 3, "township": 4, "county": 6, "city": 8}
GOLD_ROOMS = {"西桥街道两代表一委员调解室"}
OPENING_HOURS = "周一至周五 8:30-12:00, 14:00-17:30"
MEDIATOR_ROOMS = {
    "西桥街道两代表一委员调解室": "首席调解员",
    "西桥社区评理说事点": "调解员",
}


def _centre(region_code: str, level: str) -> tuple[float | None, float | None]:
    """The centre of the community boundaries under the region (demo placement)."""
    prefix = region_code[: Region.PREFIX_LENGTH.get(level, 12)]
    lats: list[float] = []
    lngs: list[float] = []
    for boundary in Region.objects.filter(
        code__startswith=prefix, boundary__isnull=False
    ).values_list("boundary", flat=True):
        for ring in (boundary or {}).get("coordinates", [])[:1]:
            for lng, lat in ring:
                lngs.append(lng)
                lats.append(lat)
    if not lats:
        return None, None
    return round((min(lats) + max(lats)) / 2, 6), round((min(lngs) + max(lngs)) / 2, 6)


def _ensure_categories(stdout) -> None:
    """Dispute categories come from the incidents app's loader; load them if still missing."""
    if Category.objects.filter(code="1006").exists():
        return
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("load_categories", stdout=stdout)
    except (CommandError, LookupError, ImportError):
        stdout.write("mediation demo: no dispute categories yet; rooms take every dispute")


def _load_rooms(data: dict, admin: User) -> tuple[int, int]:
    created = updated = 0
    for item in data.get("mediation_rooms", []):
        region = Region.objects.filter(code=item["region"]).first()
        if region is None:
            continue
        existing = MediationRoom.objects.filter(name=item["name"]).first()
        lat, lng = (existing.lat, existing.lng) if existing else (None, None)
        if lat is None:
            lat, lng = _centre(region.code, region.level)
        room_data = services.room_data_clean(
            name=item["name"],
            room_type=item["type"],
            level=item["level"],
            region_code=item["region"],
            category_codes=[
                code
                for code in CATEGORIES_BY_TYPE.get(item["type"], [])
                if Category.objects.filter(code=code, is_dispute=True).exists()
            ],
            address=existing.address if existing and existing.address else f"{region.name}综治中心",
            lat=lat,
            lng=lng,
            opening_hours=OPENING_HOURS,
            capacity_per_day=CAPACITY_BY_LEVEL.get(item["level"], 4),
            gold_rated=item["name"] in GOLD_ROOMS,
            active=existing.active if existing else True,
        )
        if existing is None:
            services.room_create(actor=admin, data=room_data)
            created += 1
        else:
            unchanged = (
                existing.room_type == room_data.room_type
                and existing.level == room_data.level
                and existing.region_id == room_data.region.pk
                and existing.capacity_per_day == room_data.capacity_per_day
                and existing.gold_rated == room_data.gold_rated
                and {c.pk for c in existing.categories.all()}
                == {c.pk for c in room_data.categories}
            )
            if not unchanged:
                services.room_update(actor=admin, room_id=existing.pk, data=room_data)
                updated += 1
    return created, updated


def _load_mediators(admin: User) -> None:
    mediator = User.objects.filter(username="mediator").first()
    if mediator is None:
        return
    for room_name, title in MEDIATOR_ROOMS.items():
        room = MediationRoom.objects.filter(name=room_name).first()
        if room is None:
            continue
        if not RoomMediator.objects.filter(room=room, user=mediator, active=True).exists():
            services.room_mediator_add(
                actor=admin, room_id=room.pk, user_id=mediator.pk, title=title
            )


def _case_exists(facts: str) -> bool:
    return MediationCase.objects.filter(facts=facts).exists()


def _load_cases(admin: User) -> int:
    mediator = User.objects.filter(username="mediator").first()
    resident = User.objects.filter(username="resident").first()
    village = MediationRoom.objects.filter(name="西桥社区评理说事点").first()
    township = MediationRoom.objects.filter(name="西桥街道两代表一委员调解室").first()
    if mediator is None or village is None or township is None:
        return 0
    created = 0
    applicant = CaseParty.Role.APPLICANT
    respondent = CaseParty.Role.RESPONDENT
    property_code = "1003" if Category.objects.filter(code="1003").exists() else None
    neighbour_code = "1001" if Category.objects.filter(code="1001").exists() else None

    facts = "楼上住户装修渗水，导致楼下天花板发霉，双方就维修费用协商未果。"
    if resident is not None and property_code and not _case_exists(facts):
        services.case_apply_online(
            actor=resident,
            room_id=township.pk,
            category_code=property_code,
            facts=facts,
            requests="请求对方承担维修费用3000元。",
            parties=[
                {
                    "role": applicant,
                    "name": resident.display_name or "王小明",
                    "phone": "13800000001",
                },
                {"role": respondent, "name": "刘某某", "address": "西桥社区3号楼502"},
            ],
        )
        created += 1

    facts = "两户邻居因楼道堆放杂物、占用公共空间发生争执。"
    if not _case_exists(facts):
        case = services.case_register(
            actor=mediator,
            room_id=village.pk,
            source="walk_in",
            category_code=neighbour_code,
            facts=facts,
            requests="请求清理楼道杂物。",
            parties=[
                {"role": applicant, "name": "张某", "address": "西桥社区5号楼101"},
                {"role": respondent, "name": "李某", "address": "西桥社区5号楼102"},
            ],
        )
        services.case_accept(actor=mediator, case_id=case.pk)
        tomorrow = timezone.localtime() + timedelta(days=1)
        services.session_schedule(
            actor=mediator,
            case_id=case.pk,
            starts_at=tomorrow.replace(hour=9, minute=30, second=0, microsecond=0),
            place="西桥社区评理说事点",
        )
        created += 1

    facts = "邻居家空调外机噪音扰民，多次沟通未果。"
    if not _case_exists(facts):
        case = services.case_register(
            actor=mediator,
            room_id=village.pk,
            source="walk_in",
            category_code=neighbour_code,
            facts=facts,
            parties=[
                {"role": applicant, "name": "陈某", "address": "西桥社区2号楼301"},
                {"role": respondent, "name": "吴某", "address": "西桥社区2号楼302"},
            ],
        )
        services.case_accept(actor=mediator, case_id=case.pk)
        session = services.session_schedule(
            actor=mediator,
            case_id=case.pk,
            starts_at=timezone.now() + timedelta(minutes=30),
            place="西桥社区评理说事点",
        )
        services.session_start(actor=mediator, session_id=session.pk)
        services.agreement_record(
            actor=mediator,
            case_id=case.pk,
            form="oral",
            facts=facts,
            disputed_matters="空调外机噪音。",
            terms="吴某于一周内将空调外机移至远离陈某卧室一侧，费用自理。",
            performance_method="吴某自行请师傅移机，社区调解员回访确认。",
        )
        services.case_follow_up(
            actor=mediator, case_id=case.pk, performance="fully", result="已移机，双方满意。"
        )
        services.case_close(actor=mediator, case_id=case.pk)
        created += 1
    return created


def load_demo(data: dict, stdout) -> None:
    admin = (
        User.objects.filter(username="admin").first()
        or User.objects.filter(is_superuser=True).first()
    )
    if admin is None:
        stdout.write("mediation demo: no admin user; skipped")
        return
    _ensure_categories(stdout)
    with transaction.atomic():
        created, updated = _load_rooms(data, admin)
        _load_mediators(admin)
        cases = _load_cases(admin)
    stdout.write(
        f"mediation: rooms {created} created, {updated} updated; demo cases {cases} created"
    )
