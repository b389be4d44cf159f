"""Who sees what: basic data by area, key persons only to the responsible worker, the
community's designated staff and granted roles; everyone else 404."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from registry import selectors
from registry.models import KeyPerson, KeyPersonGrant, Person

pytestmark = pytest.mark.django_db


def _people(user):
    return set(selectors.scoped(Person, user).values_list("pk", flat=True))


def test_basic_data_scope(world):
    pk = world.person.pk
    assert pk in _people(world.worker)
    assert pk not in _people(world.worker2)  # same community, other cell
    assert pk not in _people(world.worker_b)
    assert pk in _people(world.staff)  # community
    assert pk in _people(world.street)  # street
    assert pk in _people(world.supervisor)
    assert pk in _people(world.police)  # paired with the cell
    assert pk in _people(world.admin)
    for user in (world.resident, world.health, world.other_dept):
        assert pk not in _people(user)


def _sees_kp(user, kp):
    return selectors.key_persons(user).filter(pk=kp.pk).exists()


def test_key_person_visible_only_to_those_granted(world):
    kp = world.kp
    seeing = {
        "worker": world.worker,
        "staff": world.staff,
        "police": world.police,
        "health": world.health,
    }
    blind = {
        "worker2": world.worker2,
        "worker_b": world.worker_b,
        "street": world.street,
        "supervisor": world.supervisor,
        "admin": world.admin,
        "resident": world.resident,
        "other_dept": world.other_dept,
    }
    for name, user in seeing.items():
        assert _sees_kp(user, kp), name
    for name, user in blind.items():
        assert not _sees_kp(user, kp), name


def test_key_person_of_ungranted_kind_is_invisible_to_police(world):
    from registry.services import key_person_create

    elderly = key_person_create(
        actor=world.worker,
        person=world.person,
        kind=world.elderly,
        risk_level=0,
        responsible_worker=world.worker,
    )
    assert not _sees_kp(world.police, elderly)
    assert _sees_kp(world.staff, elderly)
    KeyPersonGrant.objects.create(kind=world.elderly, role="police_officer")
    from accounts.models import User

    assert _sees_kp(User.objects.get(pk=world.police.pk), elderly)


def test_key_person_page_is_404_and_audited_for_everyone_else(world, client):
    url = reverse("registry:key_person_detail", args=[world.kp.pk])
    for user in (world.worker2, world.street, world.supervisor, world.admin, world.resident):
        client.force_login(user)
        assert client.get(url).status_code == 404
    denied = AuditEvent.objects.filter(kind="access_denied", object_type="registry.keyperson")
    assert denied.count() == 5
    client.force_login(world.worker)
    response = client.get(url)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        kind="unmasked", object_type="registry.keyperson", details__view="key_person_page"
    ).exists()


def test_key_person_page_masks_until_revealed_and_reveal_is_audited(world, client):
    client.force_login(world.worker)
    url = reverse("registry:key_person_detail", args=[world.kp.pk])
    page = client.get(url).content.decode()
    assert "13912345678" not in page and "11010519491231002X" not in page
    page = client.post(url, {"reveal": "1"}).content.decode()
    assert "13912345678" in page
    assert AuditEvent.objects.filter(kind="unmasked", object_type="registry.person").exists()


def test_reveal_refused_for_roles_that_may_not(world, client):
    client.force_login(world.staff)  # a dispatcher: sees the record, masked
    url = reverse("registry:record_detail", args=["person", world.person.pk])
    page = client.post(url, {"reveal": "1"}).content.decode()
    assert "13912345678" not in page


def test_person_page_of_other_cell_is_404(world, client):
    client.force_login(world.worker2)
    url = reverse("registry:record_detail", args=["person", world.person.pk])
    assert client.get(url).status_code == 404
    client.force_login(world.resident)
    assert client.get(reverse("registry:home")).status_code == 404


def test_key_person_list_shows_counts_only_in_stats(world, client):
    client.force_login(world.supervisor)
    response = client.get(reverse("registry:stats"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "张三" not in page
    assert response.context["counts"]["key_persons"] == 1
    assert client.get(reverse("registry:key_persons")).status_code == 404


def test_search_by_name_prefix_and_id_within_area(world, client):
    from .conftest import ID_A

    assert [p.pk for p in selectors.people_search(world.staff, "张")] == [world.person.pk]
    assert [p.pk for p in selectors.people_search(world.staff, ID_A)] == [world.person.pk]
    assert selectors.people_search(world.worker_b, ID_A) == []
    client.force_login(world.staff)
    response = client.post(reverse("registry:search"), {"q": ID_A})
    assert "张三" in response.content.decode()


def test_key_person_data_never_in_open311_or_public_pages(world, client):
    client.logout()
    for url in ("/open311/v2/requests.json", "/", reverse("registry:layers")):
        response = client.get(url)
        assert "张三" not in response.content.decode(errors="ignore")
    assert KeyPerson.objects.count() == 1


def test_edit_form_shows_numbers_to_writers_and_is_audited(world, client):
    client.force_login(world.worker)
    url = reverse("registry:record_edit", args=["person", world.person.pk])
    assert "13912345678" in client.get(url).content.decode()
    assert AuditEvent.objects.filter(kind="unmasked", object_type="registry.person").exists()
    client.force_login(world.supervisor)  # sees the record, may not edit it
    assert client.get(url).status_code == 404


def test_key_person_access_requires_a_second_factor(region_tree):
    """等保 (issue 23): registry registers "key-person access" with the security policy."""
    from accounts.policy import two_factor_required
    from tests.builders import make_user

    worker = make_user("kp_worker", roles=["grid_worker"], region=region_tree["a1"])
    handler = make_user("kp_handler", roles=["department_handler"], region=region_tree["city"])
    assert two_factor_required(worker)
    assert not two_factor_required(handler)
