"""Test data builders shared by every app's tests (plain functions; fast, explicit).

They live outside the apps: they build users (accounts), regions, cells and grid workers
(grids), so no app layer may hold them (core sits below both; see docs/architecture.md)."""

import struct
import zlib
from collections.abc import Iterable

from accounts.models import Role, User
from grids.models import GridCell, GridWorker, Region

DEFAULT_PASSWORD = "Grid-Pass-2026!"


def rectangle(south: float, west: float, north: float, east: float) -> dict:
    """A GeoJSON polygon for a lat/lng box (GeoJSON order is [lng, lat])."""
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def make_user(
    username: str,
    *,
    roles: Iterable[str] = (),
    region: Region | None = None,
    phone: str | None = None,
    password: str = DEFAULT_PASSWORD,
    display_name: str = "",
    department: str = "",
    **extra,
) -> User:
    user = User.objects.create_user(
        username=username,
        password=password,
        phone=phone,
        display_name=display_name or username,
        scope_region=region,
        department=department,
        **extra,
    )
    if roles:
        codes = [str(code) for code in roles]
        # A transactional test's flush empties the rows the roles migration made: never drop a
        # role silently, recreate it.
        for code in codes:
            Role.objects.get_or_create(code=code)
        user.roles.set(Role.objects.filter(code__in=codes))
    return user


def make_grid_worker(
    username: str, *, cells: Iterable[GridCell], on_duty: bool = True, **kwargs
) -> User:
    cells = list(cells)
    region = kwargs.pop("region", cells[0].community if cells else None)
    user = make_user(username, roles=["grid_worker"], region=region, **kwargs)
    worker = GridWorker.objects.create(user=user, on_duty=on_duty)
    worker.cells.set(cells)
    return user


def make_region_tree() -> dict[str, Region | GridCell]:
    """A small city: 1 city, 1 district, 2 streets, 3 communities, 4 grid cells.

    street A (350602001000): community A1 (two cells side by side), community A2 (one cell)
    street B (350602002000): community B1 (one cell, covering only the west half of it)
    """
    city = Region.objects.create(code="350600000000", name="漳州市", level="city")
    district = Region.objects.create(
        code="350602000000", name="芗城区", level="district", parent=city
    )
    street_a = Region.objects.create(
        code="350602001000", name="西桥街道", level="street", parent=district
    )
    street_b = Region.objects.create(
        code="350602002000", name="东铺头街道", level="street", parent=district
    )
    a1 = Region.objects.create(
        code="350602001001",
        name="西桥社区",
        level="community",
        parent=street_a,
        boundary=rectangle(24.500, 117.600, 24.510, 117.620),
    )
    a2 = Region.objects.create(
        code="350602001002",
        name="金品社区",
        level="community",
        parent=street_a,
        boundary=rectangle(24.500, 117.620, 24.510, 117.630),
    )
    b1 = Region.objects.create(
        code="350602002001",
        name="东铺头社区",
        level="community",
        parent=street_b,
        boundary=rectangle(24.500, 117.640, 24.510, 117.660),
    )
    cell_a1_1 = GridCell.objects.create(
        code="350602001001001",
        name="西桥1网格",
        community=a1,
        geometry=rectangle(24.500, 117.600, 24.510, 117.610),
    )
    cell_a1_2 = GridCell.objects.create(
        code="350602001001002",
        name="西桥2网格",
        community=a1,
        geometry=rectangle(24.500, 117.610, 24.510, 117.620),
    )
    cell_a2_1 = GridCell.objects.create(
        code="350602001002001",
        name="金品1网格",
        community=a2,
        geometry=rectangle(24.500, 117.620, 24.510, 117.630),
    )
    cell_b1_1 = GridCell.objects.create(
        code="350602002001001",
        name="东铺头1网格",
        community=b1,
        geometry=rectangle(24.500, 117.640, 24.510, 117.650),
    )
    return {
        "city": city,
        "district": district,
        "street_a": street_a,
        "street_b": street_b,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "cell_a1_1": cell_a1_1,
        "cell_a1_2": cell_a1_2,
        "cell_a2_1": cell_a2_1,
        "cell_b1_1": cell_b1_1,
    }


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header claims width x height pixels (a decompression
    bomb when both are large)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )
