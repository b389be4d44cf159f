from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.exceptions import ValidationFailed
from core.models import Notification, SmsMessage
from registry.models import Building, KeyPersonEvent, Person, RecordChange
from registry.personal_data import lookup_key
from registry.services import basic_save, key_person_create, visit_log

from .conftest import ID_A, ID_B, PHONE_A, valid_id

pytestmark = pytest.mark.django_db


def test_id_number_and_phone_are_encrypted_and_found_by_blind_index(world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_value, phone_value FROM registry_person")
        stored_id, stored_phone = cursor.fetchone()
    assert ID_A not in stored_id and stored_id.startswith("enc1:")
    assert PHONE_A not in stored_phone
    assert Person.objects.get(id_key=lookup_key("id", ID_A)).pk == world.person.pk
    assert world.person.birth_date.isoformat() == "1949-12-31"
    assert world.person.gender == "female"


def test_invalid_id_number_is_a_field_error_and_writes_nothing(world):
    before = Person.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        basic_save(
            actor=world.worker,
            instance=Person(),
            data={"name": "李四", "id_number": ID_B},
            cell=world.cell,
        )
    assert "id_number" in exc.value.extra
    assert Person.objects.count() == before


def test_duplicate_id_number_is_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        basic_save(
            actor=world.worker,
            instance=Person(),
            data={"name": "张三", "id_number": ID_A},
            cell=world.cell,
        )
    assert "id_number" in exc.value.extra


def test_worker_cannot_write_another_cell(world):
    with pytest.raises(ValidationFailed):
        basic_save(
            actor=world.worker,
            instance=Building(),
            data={"name": "x", "address": "y"},
            cell=world.cell_b1_1,
        )
    with pytest.raises(ValidationFailed):
        basic_save(actor=world.supervisor, instance=world.building, data={"name": "z"})


def test_home_in_another_cells_building_is_refused(world):
    other = basic_save(
        actor=world.worker2,
        instance=Person(),
        data={"name": "王五", "id_number": valid_id("35060219800101001")},
        cell=world.cell_a1_2,
    )
    with pytest.raises(ValidationFailed) as exc:
        basic_save(actor=world.worker2, instance=other, data={"home": world.home})
    assert "home" in exc.value.extra


def test_change_history_records_who_what_and_masks_sensitive_values(world):
    basic_save(
        actor=world.worker,
        instance=world.person,
        data={"name": "张三丰", "phone": "13800000009"},
    )
    change = RecordChange.objects.filter(model="person", object_id=world.person.pk).first()
    assert change.action == "updated" and change.actor == world.worker
    assert change.changes["name"] == ["张三", "张三丰"]
    assert change.changes["phone_value"] == ["***", "***"]
    assert "13800000009" not in str(change.changes)
    created = RecordChange.objects.get(model="person", object_id=world.person.pk, action="created")
    assert ID_A not in str(created.changes)


def test_key_person_plan_sets_next_due(world):
    kp = world.kp
    assert kp.next_visit_due == timezone.localdate() + timedelta(days=30)
    assert KeyPersonEvent.objects.filter(key_person=kp, kind="created").exists()
    with pytest.raises(ValidationFailed):
        key_person_create(
            actor=world.worker,
            person=world.person,
            kind=world.mental,
            risk_level=0,
            responsible_worker=world.worker,
        )
    with pytest.raises(ValidationFailed):
        key_person_create(
            actor=world.worker,
            person=world.person,
            kind=world.elderly,
            risk_level=7,
            responsible_worker=world.worker,
        )


def test_visit_raising_risk_alerts_designated_staff_and_police_on_commit(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit = visit_log(
            actor=world.worker,
            key_person=world.kp,
            observations="情绪激动，砸东西",
            risk_after=3,
            lat=24.505,
            lng=117.605,
        )
    world.kp.refresh_from_db()
    assert world.kp.risk_level == 3
    assert world.kp.next_visit_due == timezone.localdate() + timedelta(days=14)
    assert visit.raised
    notified = set(Notification.objects.values_list("user_id", flat=True))
    assert notified == {world.staff.pk, world.police.pk}
    phones = set(SmsMessage.objects.values_list("phone", flat=True))
    assert phones == {world.staff.phone, world.police.phone}
    assert all("张三" not in text for text in SmsMessage.objects.values_list("text", flat=True))
    assert KeyPersonEvent.objects.filter(key_person=world.kp, kind="risk_changed").exists()


def test_visit_not_raising_risk_alerts_nobody(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        visit_log(actor=world.worker, key_person=world.kp, observations="稳定", risk_after=0)
    assert not Notification.objects.exists()
    world.kp.refresh_from_db()
    assert world.kp.next_visit_due == timezone.localdate() + timedelta(days=90)


def test_alert_is_idempotent(world, django_capture_on_commit_callbacks):
    from registry.services import alert_risk_raised

    with django_capture_on_commit_callbacks(execute=True):
        visit = visit_log(actor=world.worker, key_person=world.kp, observations="x", risk_after=4)
    alert_risk_raised(visit.pk)
    assert Notification.objects.count() == 2
    assert SmsMessage.objects.count() == 2


def test_visit_bad_input_is_refused_and_writes_nothing(world):
    for kwargs in (
        {"observations": "", "risk_after": 1},
        {"observations": "x", "risk_after": 9},
        {"observations": "x", "risk_after": 1, "lat": 91.0, "lng": 1.0},
        {"observations": "x", "risk_after": 1, "lat": 24.0},
        {
            "observations": "x",
            "risk_after": 1,
            "visited_at": timezone.now() + timedelta(days=1),
        },
    ):
        with pytest.raises(ValidationFailed):
            visit_log(actor=world.worker, key_person=world.kp, **kwargs)
    assert not world.kp.visits.exists()


def test_demo_loads_twice(db):
    import json
    from pathlib import Path

    from grids.demo import load_demo as grids_demo
    from registry.demo import load_demo

    data = json.loads(
        (Path(__file__).resolve().parents[2] / "grids/fixtures/demo_city.json").read_text()
    )
    grids_demo(data, type("Out", (), {"write": lambda self, text: None})())
    load_demo()
    load_demo()
    assert Person.objects.filter(name="黄志强").count() == 1
    assert KeyPersonEvent.objects.filter(kind="visited").count() == 1
