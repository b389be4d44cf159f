"""Test data for tasks from above: a street dispatcher (issuer), a court liaison with an issuer
grant for the district, grid workers, supervisors; photos and drawn signatures."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import User
from assignments import services
from assignments.models import IssuerGrant, Task, TaskKind
from grids.models import GridCell, Region
from tests.builders import make_grid_worker, make_user


@dataclass
class World:
    tree: dict
    dispatcher_a: User  # street A's dispatcher: issues into street A
    dispatcher_b: User  # street B's
    court: User  # a department handler with a grant for the district (court liaison)
    supervisor_a: User  # street A's supervisor
    supervisor_district: User
    worker_a1: User  # cell A1-1
    worker_a2: User  # cell A2-1
    worker_b: User  # cell B1-1
    resident: User

    @property
    def cell_a1(self) -> GridCell:
        return self.tree["cell_a1_1"]

    @property
    def cell_a2(self) -> GridCell:
        return self.tree["cell_a2_1"]

    @property
    def cell_b(self) -> GridCell:
        return self.tree["cell_b1_1"]


def make_world(tree: dict) -> World:
    court = make_user(
        "court", roles=["department_handler"], region=tree["district"], department="法院"
    )
    IssuerGrant.objects.create(user=court, region=tree["district"], office="芗城区人民法院")
    return World(
        tree=tree,
        dispatcher_a=make_user("dispatcher_a", roles=["dispatcher"], region=tree["street_a"]),
        dispatcher_b=make_user("dispatcher_b", roles=["dispatcher"], region=tree["street_b"]),
        court=court,
        supervisor_a=make_user("supervisor_a", roles=["supervisor"], region=tree["street_a"]),
        supervisor_district=make_user(
            "supervisor_d", roles=["supervisor"], region=tree["district"]
        ),
        worker_a1=make_grid_worker("worker_a1", cells=[tree["cell_a1_1"]], phone="13800000001"),
        worker_a2=make_grid_worker("worker_a2", cells=[tree["cell_a2_1"]]),
        worker_b=make_grid_worker("worker_b", cells=[tree["cell_b1_1"]]),
        resident=make_user("resident", roles=["resident"]),
    )


def kind(code: str = "visit_check") -> TaskKind:
    return TaskKind.objects.get(code=code)


def issue(
    world: World,
    *,
    issuer: User | None = None,
    cells=None,
    workers=(),
    communities=(),
    kind_code: str = "visit_check",
    hours: int = 48,
    **extra,
) -> Task:
    cells = [world.cell_a1] if cells is None else cells
    return services.task_issue(
        issuer=issuer or world.dispatcher_a,
        kind_id=kind(kind_code).pk,
        title=extra.pop("title", "走访独居老人"),
        instructions=extra.pop("instructions", "核实居住情况"),
        deadline=extra.pop("deadline", timezone.now() + timedelta(hours=hours)),
        cell_ids=[c.pk for c in cells],
        worker_ids=[w.pk for w in workers],
        community_ids=[c.pk for c in communities],
        **extra,
    )


SERVICE = services.ServiceInput(
    document_title="民事判决书",
    case_number="(2026)闽0602民初1234号",
    authority="芗城区人民法院",
    addressee_name="林秀英",
    addressee_phone="13912345678",
    addressee_id_number="350602199001011234",
    addressee_address="西桥街道西桥社区3栋201",
)


def issue_service(world: World, **extra) -> Task:
    return issue(
        world,
        issuer=extra.pop("issuer", world.court),
        kind_code="service_of_documents",
        title="送达民事判决书",
        instructions="请当面送达并请受送达人签名",
        service=SERVICE,
        **extra,
    )


def photo(name: str = "photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def signature(blank: bool = False) -> str:
    image = Image.new("RGBA", (340, 160), (255, 255, 255, 0 if blank else 255))
    if not blank:
        ImageDraw.Draw(image).line(
            [(20, 100), (120, 40), (220, 120), (320, 60)], fill="black", width=4
        )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def region(code: str) -> Region:
    return Region.objects.get(code=code)
