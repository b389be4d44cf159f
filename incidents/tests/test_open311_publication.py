"""Security review M3, the incidents side: which categories Open311 may publish
(Category.publish_open311: loader, CSV, data migration, admin) and the incident's public id."""

from __future__ import annotations

import csv
import importlib

import pytest
from django.apps import apps as django_apps

from incidents.loaders import CATEGORIES_CSV, load_categories
from incidents.models import Category, Incident, public_id_new

pytestmark = pytest.mark.django_db

UNPUBLISHED = {"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1202", "1301", "1302"}
UNPUBLISHED |= {"1401", "1402"}


def _published_subclasses() -> set[str]:
    return set(
        Category.objects.filter(parent__isnull=False, publish_open311=True).values_list(
            "code", flat=True
        )
    )


def test_the_loader_publishes_ordinary_categories_only():
    load_categories()
    subclasses = set(Category.objects.filter(parent__isnull=False).values_list("code", flat=True))
    assert _published_subclasses() == subclasses - UNPUBLISHED
    assert not Category.objects.filter(is_dispute=True, publish_open311=True).exists()
    assert not Category.objects.filter(internal_only=True, publish_open311=True).exists()


def test_the_csv_carries_the_flag_and_a_new_category_is_unpublished():
    with open(CATEGORIES_CSV, encoding="utf-8", newline="") as handle:
        rows = {row["code"]: row["open311"] for row in csv.DictReader(handle)}
    assert rows["0102"] == "yes" and rows["1001"] == "no" and rows["1302"] == "no"
    assert Category._meta.get_field("publish_open311").default is False
    assert Category.objects.create(code="9901", name="新类别").publish_open311 is False


def test_the_data_migration_sets_the_same_defaults():
    migration = importlib.import_module("incidents.migrations.0007_category_publish_open311")
    load_categories()
    expected = _published_subclasses()
    Category.objects.update(publish_open311=False)
    migration.publish_ordinary_categories(django_apps, None)
    assert _published_subclasses() == expected


def test_the_admin_edits_the_flag_in_the_list_and_refuses_it_on_disputes(client):
    from incidents.admin import CategoryAdmin, CategoryForm
    from tests.builders import make_user

    load_categories()
    assert "publish_open311" in CategoryAdmin.list_editable
    dispute = Category.objects.get(code="1001")
    data = {
        field: getattr(dispute, field)
        for field in CategoryForm.Meta.fields
        if field not in ("parent", "publish_open311")
    }
    data["parent"] = dispute.parent_id
    data["publish_open311"] = True
    form = CategoryForm(data=data, instance=dispute)
    assert not form.is_valid()
    assert "publish_open311" in form.errors

    admin = make_user("admin_pub", roles=["admin"], phone="13700000099")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    page = client.get("/admin/incidents/category/")
    assert page.status_code == 200
    assert b"publish_open311" in page.content


def test_every_new_incident_gets_a_public_id(region_tree):
    from incidents.services import tracking_number_new

    load_categories()
    category = Category.objects.get(code="0101")
    made = Incident.objects.bulk_create(
        [
            Incident(
                tracking_number=tracking_number_new(),
                category=category,
                description="x",
                channel="api",
            )
            for _ in range(3)
        ]
    )
    ids = [incident.public_id for incident in made]
    assert len(set(ids)) == 3
    assert all(len(i) == 11 and i.startswith("R") for i in ids)
    assert public_id_new() != public_id_new()
