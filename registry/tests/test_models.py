import pytest
from django.db import IntegrityError

from registry.models import Building, Home, Person
from registry.personal_data import lookup_key
from tests.builders import make_region_tree

pytestmark = pytest.mark.django_db


def test_person_id_number_is_encrypted_and_indexed():
    cell = make_region_tree()["cell_a1_1"]
    building = Building.objects.create(
        cell=cell, region_code=cell.community.code, name="1号楼", address="幸福路1号"
    )
    home = Home.objects.create(
        cell=cell, region_code=cell.community.code, building=building, number="101"
    )
    person = Person(cell=cell, region_code=cell.community.code, name="张三", home=home)
    person.id_number = "11010519491231002X"
    person.phone = "13800000000"
    person.save()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_value, phone_value FROM registry_person")
        stored_id, stored_phone = cursor.fetchone()
    assert stored_id.startswith("enc1:") and "11010519491231002X" not in stored_id
    assert stored_phone.startswith("enc1:")
    found = Person.objects.get(id_key=lookup_key("id", "11010519491231002X"))
    assert found.id_number == "11010519491231002X"
    assert found.phone == "13800000000"


def test_home_tenants_only_when_rented():
    cell = make_region_tree()["cell_a1_1"]
    building = Building.objects.create(
        cell=cell, region_code=cell.community.code, name="1号楼", address="幸福路1号"
    )
    with pytest.raises(IntegrityError):
        Home.objects.create(
            cell=cell,
            region_code=cell.community.code,
            building=building,
            number="101",
            occupancy=Home.Occupancy.OWNER,
            tenant_count=2,
        )
