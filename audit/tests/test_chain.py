"""The audit log's hash chain (issue 23): the daily check seals the rows in id order and
detects a deleted and an altered row (raw SQL: the application refuses both), on SQLite and on
PostgreSQL (where the append-only trigger has to be switched off first, as an attacker owning the
table would)."""

import contextlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from audit import chain
from audit.models import AuditChainCheck, AuditEvent, AuditSeal
from audit.services import record
from audit.tasks import verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_grace(settings):
    settings.AUDIT_CHAIN_GRACE_SECONDS = 0


@contextlib.contextmanager
def tampering():
    """Raw SQL on the audit table, past the model's guard and (PostgreSQL) the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete"
            )
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete"
                )


def _events(n: int) -> list[AuditEvent]:
    return [
        record(
            "state_changed",
            actor_label="system",
            object_type="x.y",
            object_id=i,
            details={"n": i, "text": "中文"},
        )
        for i in range(n)
    ]


def test_an_intact_log_passes_and_a_second_run_seals_only_new_rows():
    _events(5)
    first = chain.chain_verify_and_extend()
    assert first.ok and first.rows_sealed == 5 and first.rows_checked == 0
    _events(2)
    second = chain.chain_verify_and_extend()
    # 5 checked, then 2 new data rows and the first run's own integrity_checked event sealed.
    assert second.ok and second.rows_checked == 5 and second.rows_sealed == 3
    assert AuditSeal.objects.count() == 8
    assert verify_chain.delay().get() is True  # the beat task, eager in tests


def test_a_deleted_row_is_detected():
    events = _events(4)
    chain.chain_verify_and_extend()
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    check = chain.chain_verify_and_extend()
    assert not check.ok
    assert {"event_id": events[1].pk, "problem": "deleted"} in check.problems
    assert AuditChainCheck.objects.order_by("-id").first() == check


def test_an_altered_row_is_detected():
    events = _events(4)
    chain.chain_verify_and_extend()
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = %s WHERE id = %s",
            ["someone else", events[2].pk],
        )
    check = chain.chain_verify_and_extend()
    assert not check.ok
    assert check.problems == [{"event_id": events[2].pk, "problem": "altered"}]


def test_a_rewritten_time_or_detail_is_detected_too():
    events = _events(3)
    chain.chain_verify_and_extend()
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=30), events[0].pk],
        )
    problems = chain.chain_verify_and_extend().problems
    assert {"event_id": events[0].pk, "problem": "altered"} in problems


def test_a_forged_seal_without_the_key_is_detected():
    events = _events(3)
    chain.chain_verify_and_extend()
    AuditSeal.objects.filter(event_id=events[1].pk).update(digest="0" * 64)
    problems = chain.chain_verify_and_extend().problems
    assert {"event_id": events[1].pk, "problem": "altered"} in problems


def test_recent_rows_wait_for_the_grace_period(settings):
    settings.AUDIT_CHAIN_GRACE_SECONDS = 300
    _events(2)
    assert chain.chain_verify_and_extend().rows_sealed == 0


def test_the_chain_uses_sm3_when_sm_is_chosen():
    events = _events(2)
    with override_settings(CRYPTO_SM=True):
        chain.chain_verify_and_extend()
        assert set(AuditSeal.objects.values_list("algorithm", flat=True)) == {"sm3"}
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[0].pk])
    # Back on SHA-256: the SM3 seals still verify (each names its algorithm).
    check = chain.chain_verify_and_extend()
    assert check.problems == [{"event_id": events[0].pk, "problem": "deleted"}]
    assert AuditSeal.objects.filter(algorithm="sha256").exists()


def test_the_workbench_box_shows_the_result_to_administrators(client):
    from tests.builders import make_user

    _events(1)
    chain.chain_verify_and_extend()
    admin = make_user("adm", roles=["admin"])
    client.force_login(admin)
    html = client.get("/").content.decode()
    assert 'id="audit-integrity"' in html
    resident = make_user("res", roles=["resident"])
    client.force_login(resident)
    assert 'id="audit-integrity"' not in client.get("/").content.decode()


def test_the_audit_log_is_kept_at_least_six_months():
    from django.core.exceptions import ImproperlyConfigured

    from governance.settings_checks import check_retention

    with pytest.raises(ImproperlyConfigured):
        check_retention(179, 1095)
    check_retention(180, 1095)
