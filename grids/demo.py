"""The demo city's regions, grid cells, grid workers, teams and demo users (one per role).

Idempotent: a row is written only when it is missing or differs, so a second run changes
nothing (updated_at included). Called by `manage.py load_demo_city` before the other apps'
`<app>.demo.load_demo(data, stdout)` hooks.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from accounts.models import Role, RoleCode, User
from grids.geometry import area_m2, metres_to_degrees, polygon_from_geojson, rectangle
from grids.models import GridCell, GridWorker, Region, Team

DEMO_PASSWORD = "Demo-2026!"  # noqa: S105 - published demo logins, documented  # nosec B105
DEMO_FILE = Path(__file__).resolve().parent / "fixtures" / "demo_city.json"
DEFAULT_CELL_M = 100

# Names for the generated grid workers (no real persons).
WORKER_NAMES = [
    "郑晓敏",
    "吴丽华",
    "林志强",
    "黄秀兰",
    "陈伟东",
    "许丽娟",
    "蔡明辉",
    "杨淑芬",
    "沈建新",
    "戴美玲",
    "曾国平",
    "苏雅琴",
    "周海峰",
    "邱晓红",
    "卢振宇",
    "方春燕",
    "叶文华",
    "洪丽萍",
    "柯永生",
    "江碧云",
]
POLICE_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    scope: str | None  # region code
    phone: str
    department: str = ""
    superuser: bool = False


DEMO_USERS = [
    DemoUser(
        "admin", "系统管理员", (RoleCode.ADMIN,), "350600000000", "13800000000", superuser=True
    ),
    DemoUser("resident", "王小明", (RoleCode.RESIDENT,), None, "13800000001"),
    DemoUser("supervisor", "陈建国", (RoleCode.SUPERVISOR,), "350600000000", "13800000002"),
    DemoUser("dispatcher", "林海燕", (RoleCode.DISPATCHER,), "350602001000", "13800000003"),
    DemoUser("dispatcher2", "黄志明", (RoleCode.DISPATCHER,), "350602002000", "13800000004"),
    DemoUser("gridworker", "郑晓敏", (RoleCode.GRID_WORKER,), "350602001001", "13800000005"),
    DemoUser("gridworker2", "吴丽华", (RoleCode.GRID_WORKER,), "350602002001", "13800000006"),
    DemoUser(
        "handler",
        "李振华",
        (RoleCode.DEPARTMENT_HANDLER,),
        "350602000000",
        "13800000007",
        department="城管执法",
    ),
    DemoUser("mediator", "蔡秀英", (RoleCode.MEDIATOR,), "350602001000", "13800000008"),
    DemoUser("petition", "杨文斌", (RoleCode.PETITION_OFFICER,), "350602000000", "13800000009"),
]
# Community code -> the contract's demo grid worker (all cells of that community).
CONTRACT_WORKERS = {"350602001001": "gridworker", "350602002001": "gridworker2"}


def load_data(path: Path | None = None) -> dict:
    return json.loads((path or DEMO_FILE).read_text(encoding="utf-8"))


def community_cell_geometries(community: dict) -> tuple[list[tuple[int, dict]], dict]:
    """([(number, polygon)], boundary) of a community of rows x cols square cells of `cell_m`
    metres from its south-west corner, numbered west→east, north→south (1 = north-west)."""
    south, west = community["sw"]
    rows, cols = int(community["rows"]), int(community["cols"])
    dlat, dlng = metres_to_degrees(float(community.get("cell_m", DEFAULT_CELL_M)), south)
    # Edges are computed once, so neighbouring cells share exactly the same coordinates.
    lats = [round(south + k * dlat, 7) for k in range(rows + 1)]
    lngs = [round(west + k * dlng, 7) for k in range(cols + 1)]
    cells = []
    number = 0
    for row in range(rows):  # north → south
        top, bottom = lats[rows - row], lats[rows - row - 1]
        for col in range(cols):  # west → east
            number += 1
            cells.append((number, rectangle(bottom, lngs[col], top, lngs[col + 1])))
    return cells, rectangle(lats[0], lngs[0], lats[rows], lngs[cols])


class _Counter:
    def __init__(self) -> None:
        self.created = 0
        self.updated = 0
        self.links = 0

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated"
        return f"{text}, {self.links} links set" if self.links else text


def _upsert(model, counter: _Counter, lookup: dict[str, Any], values: dict[str, Any]):
    """Create, or update only the fields that differ (so updated_at moves only on a change)."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        counter.created += 1
        return model.objects.create(**lookup, **values)
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=[*changed, "updated_at"])
        counter.updated += 1
    return instance


def _set_m2m(manager, wanted: list, counter: _Counter) -> None:
    """Make the relation hold exactly `wanted`; counted as a link change when it did not."""
    current = set(manager.values_list("pk", flat=True))
    if current != {obj.pk for obj in wanted}:
        manager.set(wanted)
        counter.links += 1


def _ensure_user(
    *,
    username: str,
    display_name: str,
    roles: tuple[str, ...],
    scope: Region | None,
    phone: str,
    department: str = "",
    superuser: bool = False,
    counter: _Counter,
    stdout,
) -> User:
    user = User.objects.filter(username=username).first()
    taken = User.objects.filter(phone=phone).exclude(username=username).exists()
    if taken:
        stdout.write(f"  ! phone of {username} is used by another user; left empty")
    values = {
        "display_name": display_name,
        "scope_region_id": scope.pk if scope else None,
        "department": department,
        "is_staff": superuser,
        "is_superuser": superuser,
        "is_active": True,
    }
    if not taken:
        values["phone"] = phone
    if user is None:
        user = User(username=username, **values)
        user.set_password(DEMO_PASSWORD)
        user.save()
        counter.created += 1
    else:
        changed = [name for name, value in values.items() if getattr(user, name) != value]
        if changed:
            for name in changed:
                setattr(user, name, values[name])
            user.save(update_fields=changed)
            counter.updated += 1
    _set_m2m(user.roles, list(Role.objects.filter(code__in=roles)), counter)
    return user


@transaction.atomic
def load_demo(data: dict, stdout) -> None:
    """Regions, cells, workers, teams and demo users of `data` (parsed demo_city.json)."""
    regions, cells, users, workers, teams = (_Counter() for _ in range(5))

    city_data = data["city"]
    city = _upsert(
        Region,
        regions,
        {"code": city_data["code"]},
        {
            "name": city_data["name"],
            "name_en": city_data.get("name_en", ""),
            "level": Region.Level.CITY,
            "parent_id": None,
        },
    )
    communities: list[tuple[dict, Region]] = []
    for district_data in data["districts"]:
        district = _upsert(
            Region,
            regions,
            {"code": district_data["code"]},
            {
                "name": district_data["name"],
                "name_en": district_data.get("name_en", ""),
                "level": Region.Level.DISTRICT,
                "parent_id": city.pk,
            },
        )
        for street_data in district_data["streets"]:
            street = _upsert(
                Region,
                regions,
                {"code": street_data["code"]},
                {
                    "name": street_data["name"],
                    "name_en": street_data.get("name_en", ""),
                    "level": Region.Level.STREET,
                    "parent_id": district.pk,
                },
            )
            for community_data in street_data["communities"]:
                cell_geometries, boundary = community_cell_geometries(community_data)
                community = _upsert(
                    Region,
                    regions,
                    {"code": community_data["code"]},
                    {
                        "name": community_data["name"],
                        "name_en": community_data.get("name_en", ""),
                        "level": Region.Level.COMMUNITY,
                        "parent_id": street.pk,
                        "boundary": boundary,
                    },
                )
                communities.append((community_data, community))
                for number, geometry in cell_geometries:
                    _upsert(
                        GridCell,
                        cells,
                        {"code": f"{community.code}{number:03d}"},
                        {
                            "name": f"{community.name}第{number}网格",
                            "kind": GridCell.Kind.BASIC,
                            "community_id": community.pk,
                            "geometry": geometry,
                            "area_m2": round(area_m2(polygon_from_geojson(geometry)), 1),
                            "active": True,
                        },
                    )

    by_code = {r.code: r for r in Region.objects.filter(code__startswith=city.prefix)}
    by_code[city.code] = city
    demo_users = {}
    for spec in DEMO_USERS:
        demo_users[spec.username] = _ensure_user(
            username=spec.username,
            display_name=spec.display_name,
            roles=spec.roles,
            scope=by_code.get(spec.scope) if spec.scope else None,
            phone=spec.phone,
            department=spec.department,
            superuser=spec.superuser,
            counter=users,
            stdout=stdout,
        )

    # Grid workers: one full-time worker on duty for all cells of each community; in every
    # second community a part-time worker (off duty) shares the southern row.
    generated = 0
    for position, (community_data, community) in enumerate(communities):
        community_cells = list(community.grid_cells.order_by("code"))
        username = CONTRACT_WORKERS.get(community.code)
        if username is None:
            username = f"gw{community.code}"
            user = _ensure_user(
                username=username,
                display_name=WORKER_NAMES[(2 + generated) % len(WORKER_NAMES)],
                roles=(RoleCode.GRID_WORKER,),
                scope=community,
                phone=f"1390000{generated:04d}",
                counter=users,
                stdout=stdout,
            )
            generated += 1
        else:
            user = demo_users[username]
        surname = POLICE_SURNAMES[position % len(POLICE_SURNAMES)]
        worker = _upsert(
            GridWorker,
            workers,
            {"user": user},
            {
                "kind": GridWorker.Kind.FULL_TIME,
                "on_duty": True,
                "police_officer_name": f"{surname}警官",
                "police_officer_phone": f"1370000{position:04d}",
            },
        )
        _set_m2m(worker.cells, community_cells, workers)
        if position % 2 == 1:
            cols = int(community_data["cols"])
            helper = _ensure_user(
                username=f"gw{community.code}b",
                display_name=WORKER_NAMES[(2 + generated) % len(WORKER_NAMES)],
                roles=(RoleCode.GRID_WORKER,),
                scope=community,
                phone=f"1390000{generated:04d}",
                counter=users,
                stdout=stdout,
            )
            generated += 1
            helper_worker = _upsert(
                GridWorker,
                workers,
                {"user": helper},
                {
                    "kind": GridWorker.Kind.PART_TIME,
                    "on_duty": False,
                    "police_officer_name": f"{surname}警官",
                    "police_officer_phone": f"1370000{position:04d}",
                },
            )
            _set_m2m(helper_worker.cells, community_cells[-cols:], workers)

    kinds = set(Team.Kind.values)
    for team_data in data.get("teams", []):
        kind = str(team_data.get("kind", "")).strip().replace(" ", "_").replace("-", "_")
        _upsert(
            Team,
            teams,
            {"name": team_data["name"]},
            {
                "kind": kind if kind in kinds else Team.Kind.OTHER,
                "region_id": by_code[team_data["region"]].pk,
                "member_count": int(team_data.get("members", 0)),
            },
        )

    stdout.write(
        f"grids: regions {regions}; cells {cells}; users {users}; "
        f"grid workers {workers}; teams {teams}"
    )


def print_logins(stdout) -> None:
    stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for spec in DEMO_USERS:
        roles = ", ".join(str(RoleCode(code).label) for code in spec.roles)
        scope = Region.objects.filter(code=spec.scope).first() if spec.scope else None
        where = f"{scope.name} {scope.code}" if scope else "-"
        stdout.write(f"  {spec.username:<12} {roles:<20} {where}")
    # The December apps' loaders add their own logins (volunteer, police, service handlers, the
    # three separated administrators ...), all with the same password.
    listed = {spec.username for spec in DEMO_USERS}
    others = (
        User.objects.filter(roles__isnull=False, is_active=True)
        .exclude(username__in=listed)
        .exclude(username__startswith="gw")  # the generated workers of the other cells
        .select_related("scope_region")
        .prefetch_related("roles")
        .distinct()
        .order_by("username")[:40]
    )
    for user in others:
        if not user.has_usable_password() or not user.check_password(DEMO_PASSWORD):
            continue
        roles = ", ".join(str(RoleCode(role.code).label) for role in user.roles.all())
        scope = user.scope_region
        where = f"{scope.name} {scope.code}" if scope else "-"
        stdout.write(f"  {user.username:<12} {roles:<20} {where}")
