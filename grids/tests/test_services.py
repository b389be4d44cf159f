import json

import pytest

from core.exceptions import PermissionDeniedError
from grids import locator
from grids.models import GridCell, Region
from grids.services import grid_cells_import, regions_import
from tests.builders import make_user, rectangle

HEADER = "code,name,name_en,level,parent_code\n"
GOOD_REGIONS = HEADER + (
    # Children before parents on purpose: order in the file does not matter.
    "350602001001,西桥社区,Xiqiao Community,community,350602001000\n"
    "350602001000,西桥街道,Xiqiao Street,street,350602000000\n"
    "350602000000,芗城区,Xiangcheng District,district,350600000000\n"
    "350600000000,漳州市,Zhangzhou,city,\n"
    "350602101201,石亭村,,community,350602101000\n"
    "350602101000,石亭镇,Shiting Town,street,350602000000\n"
)


def by_where(result) -> dict[str, list]:
    found: dict[str, list] = {}
    for problem in result.problems:
        found.setdefault(problem.where, []).append(problem)
    return found


# --------------------------------------------------------------------------- regions


def test_regions_import_good_file_creates_the_tree_then_changes_nothing(db):
    result = regions_import(csv_text=GOOD_REGIONS)
    assert result.ok, result.problems
    assert (result.created, result.updated) == (6, 0)
    community = Region.objects.get(code="350602001001")
    assert community.level == "community"
    assert community.parent.code == "350602001000"
    assert community.parent.parent.parent.code == "350600000000"
    assert community.name_en == "Xiqiao Community"

    again = regions_import(csv_text="\ufeff" + GOOD_REGIONS)  # a BOM from Excel is fine
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)

    renamed = regions_import(csv_text=GOOD_REGIONS.replace("西桥社区", "西桥新社区"))
    assert (renamed.created, renamed.updated) == (0, 1)


def test_regions_import_parent_may_already_be_in_the_database(region_tree):
    result = regions_import(csv_text=HEADER + "350602001003,古城社区,,community,350602001000\n")
    assert result.ok, result.problems
    assert Region.objects.get(code="350602001003").parent == region_tree["street_a"]


def test_regions_import_with_boundary_column(db):
    boundary = json.dumps(rectangle(24.5, 117.6, 24.51, 117.61)).replace('"', '""')
    text = (
        "code,name,name_en,level,parent_code,boundary\n"
        "350600000000,漳州市,,city,,\n"
        '350602000000,芗城区,,district,350600000000,"' + boundary + '"\n'
    )
    result = regions_import(csv_text=text)
    assert result.ok, result.problems
    assert Region.objects.get(code="350602000000").boundary["type"] == "Polygon"


def test_regions_import_bad_file_reports_every_problem_and_writes_nothing(db):
    text = HEADER + (
        "350600000000,漳州市,,city,\n"  # line 2: fine
        "35060200000,短码,,district,350600000000\n"  # 3: 11 digits
        "350602000000,芗城区,,county,350600000000\n"  # 4: unknown level
        "350602001000,西桥街道,,community,350602000000\n"  # 5: street code, community level
        "350603001000,步文街道,,street,350603000000\n"  # 6: parent nowhere
        "350602001001,西桥社区,,community,350600000000\n"  # 7: parent is a city
        "350699002001,错社区,,community,350602002000\n"  # 8: prefix differs from parent
        "350600000000,重复,,city,\n"  # 9: duplicate code
        "350601000000,,,district,350600000000\n"  # 10: empty name
        "350601450000,开发区,,street,350601000000\n"  # 11: township digits 450
        "350601001000,某街道,,street,\n"  # 12: street without parent
        "350601001000,多一列,,street,350601000000,extra\n"  # 13: too many fields
        "350602002000,东铺头街道,,street,350602000000\n"  # 14: parent on line 4 is bad
    )
    result = regions_import(csv_text=text)
    problems = by_where(result)
    assert "line 2" not in problems
    expected = {
        "line 3": ("code", "12 digits"),
        "line 4": ("level", "county"),
        "line 5": ("code", "street"),
        "line 6": ("parent_code", "350603000000"),
        "line 7": ("parent_code", "city"),
        "line 8": ("code", "prefix"),
        "line 9": ("code", "line 2"),
        "line 10": ("name", "empty"),
        "line 11": ("code", "450"),
        "line 12": ("parent_code", "parent"),
        "line 13": ("", "more fields"),
        "line 14": ("parent_code", "line 4"),
    }
    for where, (field, fragment) in expected.items():
        assert where in problems, f"{where} not reported: {result.problems}"
        assert any(p.field == field and fragment in p.message for p in problems[where]), (
            where,
            problems[where],
        )
    assert all(p.index is not None for p in result.problems)
    assert str(problems["line 3"][0]).startswith("line 3: code: ")
    assert Region.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("code,name,level\n350600000000,漳州市,city\n", "parent_code"),
        ("code,name,level,parent_code,colour\n", "colour"),
        (HEADER, "no rows"),
    ],
)
def test_regions_import_bad_header(db, text, fragment):
    result = regions_import(csv_text=text)
    assert not result.ok
    assert any(fragment in p.message for p in result.problems), result.problems
    assert Region.objects.count() == 0


def test_regions_import_dry_run_writes_nothing(db):
    result = regions_import(csv_text=GOOD_REGIONS, dry_run=True)
    assert result.ok and Region.objects.count() == 0


def test_import_requires_an_admin_actor(region_tree):
    dispatcher = make_user("d", roles=["dispatcher"], region=region_tree["street_a"])
    with pytest.raises(PermissionDeniedError):
        regions_import(csv_text=GOOD_REGIONS, actor=dispatcher)
    with pytest.raises(PermissionDeniedError):
        grid_cells_import(geojson_text="{}", actor=dispatcher)


# --------------------------------------------------------------------------- grid cells


def feature(code, geometry, *, community="350602002001", name="网格", kind="basic"):
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "kind": kind, "community_code": community},
        "geometry": geometry,
    }


def collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def test_grid_cells_import_good_file(region_tree):
    # Community B1 (117.640–117.660) has one cell on its west half; fill the east half.
    text = collection(
        feature("350602002001002", rectangle(24.500, 117.650, 24.510, 117.655), name="东2"),
        feature("350602002001003", rectangle(24.500, 117.655, 24.510, 117.660), kind="market"),
    )
    result = grid_cells_import(geojson_text=text)
    assert result.ok, result.problems
    assert (result.created, result.updated) == (2, 0)
    cell = GridCell.objects.get(code="350602002001002")
    assert cell.community == region_tree["b1"]
    assert cell.name == "东2"
    # 0.005° of longitude x 0.01° of latitude at 24.5°N: about 506 m x 1112 m.
    assert 555_000 < cell.area_m2 < 570_000
    assert GridCell.objects.get(code="350602002001003").kind == "market"
    assert locator.locate(24.505, 117.657).cell_code == "350602002001003"

    again = grid_cells_import(geojson_text=text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_grid_cells_import_updates_a_cell_in_place(region_tree):
    # Re-importing an existing code may move the cell over its own old polygon.
    text = collection(
        feature("350602002001001", rectangle(24.500, 117.640, 24.510, 117.652), name="东铺头1网格")
    )
    result = grid_cells_import(geojson_text=text)
    assert result.ok, result.problems
    assert result.updated == 1
    assert locator.locate(24.505, 117.651).cell_code == "350602002001001"


def test_grid_cells_import_tolerates_slivers(region_tree):
    # Overlaps the existing cell (ends at 117.650) by about 0.1 m: digitising noise.
    sliver = rectangle(24.500, 117.649999, 24.510, 117.655)
    result = grid_cells_import(geojson_text=collection(feature("350602002001002", sliver)))
    assert result.ok, result.problems


def test_grid_cells_import_bad_file_reports_every_problem_and_writes_nothing(region_tree):
    good = rectangle(24.500, 117.650, 24.510, 117.655)
    open_ring = {"type": "Polygon", "coordinates": [good["coordinates"][0][:-1]]}
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [
                [117.650, 24.500],
                [117.655, 24.510],
                [117.655, 24.500],
                [117.650, 24.510],
                [117.650, 24.500],
            ]
        ],
    }
    swapped = {
        "type": "Polygon",
        "coordinates": [[[24.5, 117.65], [24.5, 117.66], [24.51, 117.66], [24.5, 117.65]]],
    }
    features = [
        feature("350602002001002", good),  # 0: fine
        feature("350602002001003", open_ring),  # 1: ring not closed
        feature("350602002001004", bow_tie),  # 2: self-intersection
        feature("350602002001005", swapped),  # 3: latitude out of range
        feature("350602001001009", good),  # 4: code of another community
        feature("350699001001001", good, community="350699001001"),  # 5: unknown community
        feature("350602002001006", rectangle(24.500, 117.655, 24.520, 117.660)),  # 6: outside
        feature("350602002001007", rectangle(24.500, 117.652, 24.510, 117.656)),  # 7: overlaps 0
        feature("350602002001002", rectangle(24.500, 117.656, 24.505, 117.660)),  # 8: dup code
        feature("350602002001008", rectangle(24.505, 117.656, 24.510, 117.660), kind="zoo"),  # 9
        feature("350602002001009", rectangle(24.500, 117.645, 24.510, 117.651)),  # 10: DB cell
        feature("350602002001010", {"type": "Point", "coordinates": [117.65, 24.5]}),  # 11
        feature("35060200200101", good),  # 12: 14 digits
        feature("350602002001011", good, name=""),  # 13: no name
        {"type": "Feature", "geometry": good},  # 14: no properties
        feature("350602001000001", good, community="350602001000"),  # 15: a street
    ]
    before = GridCell.objects.count()
    result = grid_cells_import(geojson_text=collection(*features))
    problems = by_where(result)
    expected = {
        1: ("geometry", "not closed"),
        2: ("geometry", "Self-intersection"),
        3: ("geometry", "outside WGS-84"),
        4: ("code", "350602002001"),
        5: ("community_code", "Unknown community"),
        6: ("geometry", "outside the boundary"),
        7: ("geometry", "features[0]"),
        8: ("code", "features[0]"),
        9: ("kind", "zoo"),
        10: ("geometry", "existing cell 350602002001001"),
        11: ("geometry", "Polygon"),
        12: ("code", "15 digits"),
        13: ("name", "empty"),
        14: ("properties", "no properties"),
        15: ("community_code", "not a community"),
    }
    assert "features[0]" not in problems, problems.get("features[0]")
    for index, (field, fragment) in expected.items():
        where = f"features[{index}]"
        assert where in problems, f"{where} not reported: {[str(p) for p in result.problems]}"
        assert any(p.field == field and fragment in p.message for p in problems[where]), (
            where,
            [str(p) for p in problems[where]],
        )
        assert all(p.index == index for p in problems[where])
    assert GridCell.objects.count() == before
    assert locator.locate(24.505, 117.652).cell_id is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not valid JSON"),
        ('{"type": "Feature"}', "FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no features"),
    ],
)
def test_grid_cells_import_bad_document(region_tree, text, fragment):
    result = grid_cells_import(geojson_text=text)
    assert [p.where for p in result.problems] == ["file"]
    assert fragment in result.problems[0].message


def test_grid_cells_import_dry_run_writes_nothing(region_tree):
    text = collection(feature("350602002001002", rectangle(24.500, 117.650, 24.510, 117.655)))
    result = grid_cells_import(geojson_text=text, dry_run=True)
    assert result.ok
    assert not GridCell.objects.filter(code="350602002001002").exists()
