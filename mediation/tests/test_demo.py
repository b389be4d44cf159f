import io
import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from grids import demo as grids_demo
from mediation import demo as mediation_demo
from mediation.models import MediationCase, MediationRoom, RoomMediator

DEMO = Path(settings.BASE_DIR) / "grids" / "fixtures" / "demo_city.json"


def load(data: dict) -> None:
    """What load_demo_city does for the grids and this app (the other apps' hooks are theirs)."""
    grids_demo.load_demo(data, io.StringIO())
    mediation_demo.load_demo(data, io.StringIO())


def test_demo_loads_rooms_mediator_and_cases_idempotently(db):
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    call_command("load_categories", stdout=io.StringIO())
    load(data)
    names = {room["name"] for room in data["mediation_rooms"]}
    assert set(MediationRoom.objects.values_list("name", flat=True)) == names
    assert all(room.lat is not None for room in MediationRoom.objects.all())
    memberships = RoomMediator.objects.filter(user__username="mediator", active=True)
    assert set(memberships.values_list("room__name", flat=True)) == {
        "西桥街道两代表一委员调解室",
        "西桥社区评理说事点",
    }
    medical = MediationRoom.objects.get(name="漳州市医患纠纷人民调解委员会")
    assert list(medical.categories.values_list("code", flat=True)) == ["1006"]
    others = MediationRoom.objects.exclude(pk=medical.pk)
    assert not others.filter(categories__code="1006").exists()
    assert others.filter(categories__isnull=True).count() == 0
    cases = MediationCase.objects.count()
    assert cases >= 2
    snapshot = list(MediationRoom.objects.values_list("name", "updated_at"))
    load(data)
    assert MediationCase.objects.count() == cases
    assert list(MediationRoom.objects.values_list("name", "updated_at")) == snapshot
