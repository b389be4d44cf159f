import importlib.machinery
import json
import sys
import types
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from grids import locator
from grids.demo import DEMO_PASSWORD, community_cell_geometries, load_data
from grids.geometry import area_m2, polygon_from_geojson
from grids.management.commands import load_demo_city
from grids.models import GridCell, GridWorker, Region, Team
from tests.builders import rectangle


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def no_other_app_hooks(monkeypatch):
    """The other apps' demo loaders are their owners' to test; here only grids' part runs."""
    monkeypatch.setattr(load_demo_city, "DEMO_HOOK_APPS", ())


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- imports


def test_import_regions_command_bad_file_exits_non_zero_and_prints_every_problem(db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text(
        "code,name,name_en,level,parent_code\n"
        "350600000000,漳州市,,city,\n"
        "3506020,芗城区,,district,350600000000\n"
        "350602001000,西桥街道,,street,350699000000\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_regions", str(path), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert any(line.startswith("line 3: code:") for line in lines), lines
    assert any(line.startswith("line 4: parent_code:") for line in lines), lines
    assert Region.objects.count() == 0


def test_import_regions_command_good_file(db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text(
        "\ufeffcode,name,name_en,level,parent_code\n"
        "350600000000,漳州市,Zhangzhou,city,\n"
        "350602000000,芗城区,,district,350600000000\n",
        encoding="utf-8",
    )
    out, _ = run("import_regions", str(path))
    assert "2 created" in out
    assert Region.objects.count() == 2


def test_import_grid_cells_command(region_tree, tmp_path):
    def write(features) -> str:
        path = tmp_path / "cells.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        return str(path)

    def feature(code, geometry):
        return {
            "type": "Feature",
            "properties": {"code": code, "name": "网格", "community_code": "350602002001"},
            "geometry": geometry,
        }

    bad = write(
        [
            feature("350602002001002", rectangle(24.500, 117.645, 24.510, 117.655)),
            feature("350602002001003", rectangle(24.500, 117.655, 24.530, 117.660)),
        ]
    )
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_grid_cells", bad, stdout=StringIO(), stderr=err)
    assert "features[0]: geometry:" in err.getvalue()
    assert "features[1]: geometry:" in err.getvalue()
    assert GridCell.objects.count() == 4

    good = write([feature("350602002001002", rectangle(24.500, 117.650, 24.510, 117.660))])
    out, _ = run("import_grid_cells", good, "--dry-run")
    assert "dry run" in out and GridCell.objects.count() == 4
    out, _ = run("import_grid_cells", good)
    assert "1 created" in out
    assert GridCell.objects.count() == 5


def test_import_command_missing_file(db):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_grid_cells", "/nonexistent/cells.geojson")


# --------------------------------------------------------------------------- demo city


def snapshot() -> dict:
    return {
        "regions": sorted(Region.objects.values_list("code", "updated_at")),
        "cells": sorted(GridCell.objects.values_list("code", "updated_at", "geometry")),
        "workers": sorted(
            GridWorker.objects.values_list("user__username", "updated_at", "on_duty")
        ),
        "worker_cells": sorted(GridWorker.cells.through.objects.values_list("pk", flat=True)),
        "teams": sorted(Team.objects.values_list("name", "updated_at")),
        "users": sorted(User.objects.values_list("username", "password", "phone", "last_login")),
        "roles": sorted(User.roles.through.objects.values_list("pk", flat=True)),
    }


def test_load_demo_city_twice_changes_nothing(db, fast_passwords, no_other_app_hooks):
    out, _ = run("load_demo_city")
    assert "Demo logins" in out and DEMO_PASSWORD in out
    first = snapshot()
    assert len(first["regions"]) == 18  # 1 city, 2 districts, 5 streets, 10 communities
    assert len(first["cells"]) == 81
    out, _ = run("load_demo_city")
    assert "0 created, 0 updated" in out
    assert snapshot() == first


def test_demo_city_matches_the_contract(db, fast_passwords, no_other_app_hooks):
    run("load_demo_city")
    expected = {
        "admin": ({"admin"}, "350600000000"),
        "supervisor": ({"supervisor"}, "350600000000"),
        "dispatcher": ({"dispatcher"}, "350602001000"),
        "dispatcher2": ({"dispatcher"}, "350602002000"),
        "gridworker": ({"grid_worker"}, "350602001001"),
        "gridworker2": ({"grid_worker"}, "350602002001"),
        "handler": ({"department_handler"}, "350602000000"),
        "mediator": ({"mediator"}, "350602001000"),
        "petition": ({"petition_officer"}, "350602000000"),
        "resident": ({"resident"}, None),
    }
    phones = set()
    for username, (roles, scope) in expected.items():
        user = User.objects.get(username=username)
        assert user.role_codes == roles, username
        assert (user.scope_region.code if user.scope_region else None) == scope, username
        assert user.phone.startswith("138000000") and len(user.phone) == 11
        phones.add(user.phone)
        assert user.check_password(DEMO_PASSWORD), username
    assert len(phones) == 10
    assert User.objects.get(username="resident").phone == "13800000001"
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="handler").department == "城管执法"

    xiqiao = Region.objects.get(code="350602001001")
    assert set(User.objects.get(username="gridworker").grid_worker.cells.all()) == set(
        xiqiao.grid_cells.all()
    )
    assert User.objects.get(username="gridworker2").grid_worker.cells.count() == 9
    for community in Region.objects.filter(level="community"):
        assert GridWorker.objects.filter(cells__community=community).exists(), community
        assert community.boundary is not None
    assert GridWorker.objects.filter(on_duty=False).exists()
    assert GridWorker.objects.filter(on_duty=True).count() >= 10

    teams = {t.name: t for t in Team.objects.select_related("region")}
    assert teams["厝边阿姨志愿者巡防队"].kind == "volunteer_patrol"
    assert teams["厝边阿姨志愿者巡防队"].member_count == 12
    assert teams["古城巡防队"].region.code == "350602001003"
    assert teams["村居法律顾问"].kind == "legal_aid"
    assert Region.objects.get(code="350602101000").parent.code == "350602000000"


def test_demo_cells_are_numbered_west_to_east_north_to_south(
    db, fast_passwords, no_other_app_hooks
):
    run("load_demo_city")
    cells = {
        c.code[-3:]: polygon_from_geojson(c.geometry)
        for c in GridCell.objects.filter(community__code="350602001001")
    }
    assert len(cells) == 12  # 3 rows x 4 cols
    north_west, north_east, second_row_west = cells["001"], cells["004"], cells["005"]
    assert north_west.bounds[3] == max(c.bounds[3] for c in cells.values())  # northmost
    assert north_west.bounds[0] == min(c.bounds[0] for c in cells.values())  # westmost
    assert north_east.bounds[2] == max(c.bounds[2] for c in cells.values())
    assert north_east.bounds[1] == north_west.bounds[1]
    assert second_row_west.bounds[3] == north_west.bounds[1]  # shares the edge below 001
    for cell in cells.values():
        assert 9_900 < area_m2(cell) < 10_100
    village = GridCell.objects.get(code="350602101201001")
    assert 89_000 < village.area_m2 < 91_000  # cell_m 300
    # The community boundary encloses its cells exactly; the locator finds them.
    boundary = polygon_from_geojson(Region.objects.get(code="350602001001").boundary)
    union = polygon_from_geojson(GridCell.objects.get(code="350602001001001").geometry)
    for cell in cells.values():
        union = union.union(cell)
    assert abs(boundary.area - union.area) < 1e-12
    centre = north_west.centroid
    assert locator.locate(centre.y, centre.x).cell_code == "350602001001001"


def test_demo_cells_share_edges_exactly():
    data = load_data()
    community = data["districts"][0]["streets"][0]["communities"][0]
    cells, _boundary = community_cell_geometries(community)
    first, second = cells[0][1]["coordinates"][0], cells[1][1]["coordinates"][0]
    assert first[1][0] == second[0][0]  # east edge of 001 == west edge of 002


def test_load_demo_city_calls_the_other_apps_hooks(db, fast_passwords, monkeypatch):
    calls = []

    def make_app(name: str, with_demo: bool) -> None:
        package = types.ModuleType(name)
        package.__path__ = []
        package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        monkeypatch.setitem(sys.modules, name, package)
        if with_demo:
            module = types.ModuleType(f"{name}.demo")
            module.__spec__ = importlib.machinery.ModuleSpec(f"{name}.demo", None)

            def load_demo(data, stdout):
                # The regions exist when a hook runs; data is the parsed demo_city.json.
                assert Region.objects.filter(code=data["city"]["code"]).exists()
                stdout.write(f"{name} loaded")
                calls.append(name)

            module.load_demo = load_demo
            monkeypatch.setitem(sys.modules, f"{name}.demo", module)

    make_app("fakeapp_one", with_demo=True)
    make_app("fakeapp_two", with_demo=False)
    make_app("fakeapp_three", with_demo=True)
    monkeypatch.setattr(
        load_demo_city, "DEMO_HOOK_APPS", ("fakeapp_one", "fakeapp_two", "fakeapp_three")
    )
    out, _ = run("load_demo_city")
    assert calls == ["fakeapp_one", "fakeapp_three"]
    assert "fakeapp_one loaded" in out
    assert load_demo_city.Command.__module__.endswith("load_demo_city")


def test_demo_file_is_a_copy_of_the_shared_domain_file():
    data = load_data()
    assert data["city"]["code"] == "350600000000"
    assert (
        sum(len(street["communities"]) for d in data["districts"] for street in d["streets"]) == 10
    )


def test_load_demo_city_contract_hook_list():
    """Every app the demo command calls has its loader; governance (KPI facts) and integrations
    come last, after every app has written its demo records."""
    import importlib

    hooks = load_demo_city.DEMO_HOOK_APPS
    for app in hooks:
        assert callable(importlib.import_module(f"{app}.demo").load_demo), app
    assert hooks[-2:] == ("governance", "integrations")
    assert hooks.index("registry") < hooks.index("screening")  # disputes link people
