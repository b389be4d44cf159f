"""`manage.py reencrypt` migrates stored ID numbers to the chosen algorithm (SM4-GCM) and key;
the audit administrator's viewer filters and exports the log, and nobody else reads it."""

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from accounts.tests.otp import verified_client
from audit.models import AuditEvent, AuditKind
from audit.services import record
from core import crypto
from petitions.models import Petitioner
from petitions.tests import factories as pf
from tests.builders import make_user

pytestmark = pytest.mark.django_db
KEY_OLD = "an old passphrase of thirty-two characters or more"
KEY_NEW = "a new passphrase of thirty-two characters or more!"


def _raw(pk: int) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_value FROM petitions_petitioner WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_reencrypt_moves_existing_data_to_sm4_and_the_new_key(settings, region_tree):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_OLD]
    officer = pf.officer(region=region_tree["district"])
    person = pf.file_letter(officer, region=region_tree["a1"]).petitioners.get()
    assert _raw(person.pk).startswith("enc1:")

    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4-gcm"
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW, KEY_OLD]
    out = io.StringIO()
    call_command("reencrypt", stdout=out)
    assert "sm4-gcm" in out.getvalue()
    stored = _raw(person.pk)
    assert stored.startswith("enc2:sm4gcm:" + crypto.key_id(KEY_NEW))
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW]
    assert Petitioner.objects.get(pk=person.pk).id_number == pf.ID_A
    out = io.StringIO()
    call_command("reencrypt", stdout=out)  # a second run changes nothing
    assert "petitions.Petitioner: 0 re-encrypted" in out.getvalue()
    assert _raw(person.pk) == stored


@pytest.fixture
def auditor(db):
    return make_user("auditor", roles=["audit_admin"])


def test_only_the_audit_admin_reads_the_log(auditor, region_tree):
    for code in ("admin", "system_admin", "security_admin", "supervisor"):
        user = make_user(code, roles=[code], region=region_tree["street_a"])
        client = verified_client(user)
        assert client.get("/audit/").status_code == 403
        assert client.get("/audit/export.xlsx").status_code == 403
    assert verified_client(auditor).get("/audit/").status_code == 200


def test_filters_by_user_kind_object_and_time(auditor):
    someone = make_user("zhangsan")
    record(AuditKind.EXPORTED, actor=someone, object_type="petitions.petition", object_id=7)
    record(AuditKind.LOGOUT, actor=someone, object_type="accounts.user", object_id=someone.pk)
    record(AuditKind.EXPORTED, actor_label="other", object_type="petitions.petition", object_id=8)
    client = verified_client(auditor)

    def rows(**params):
        return list(client.get("/audit/", params).context["page"].object_list)

    assert {e.kind for e in rows(actor="zhangsan")} == {"exported", "logout"}
    assert {e.object_id for e in rows(kind="exported")} == {"7", "8"}
    assert [e.object_id for e in rows(object_type="petitions.petition", object_id="8")] == ["8"]
    assert rows(date_from="2000-01-01", date_to="2000-01-02") == []
    assert client.get("/audit/", {"date_from": "not a date"}).status_code == 400


def test_export_xlsx_is_audited(auditor):
    record(AuditKind.LOGOUT, actor_label="MARKERUSER")
    client = verified_client(auditor)
    response = client.get("/audit/export.xlsx", {"kind": "logout"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "MARKERUSER" in values
    export = AuditEvent.objects.get(kind=AuditKind.EXPORTED, object_type="audit.auditevent")
    assert export.actor_id == auditor.pk and export.details["kind"] == "audit_xlsx"
