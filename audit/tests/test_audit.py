"""The audit log: append-only, logins, refusals, state changes, unmasking, exports."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.models import RoleCode
from audit.models import AuditEvent, AuditKind
from audit.services import record
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def kinds() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("kind", flat=True))


class TestAppendOnly:
    def test_saved_event_cannot_be_changed_or_deleted(self):
        event = record(AuditKind.RETENTION_RUN, actor_label="system", details={"n": 1})
        event.details = {"n": 2}
        with pytest.raises(RuntimeError):
            event.save()
        with pytest.raises(RuntimeError):
            event.delete()
        with pytest.raises(RuntimeError):
            AuditEvent.objects.filter(pk=event.pk).update(kind=AuditKind.LOGOUT)
        with pytest.raises(RuntimeError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get(pk=event.pk).details == {"n": 1}

    def test_details_and_labels_hold_no_phone_or_id_number(self):
        event = record(
            AuditKind.LOGIN_FAILED,
            actor_label="13812345678",
            details={"typed": "13812345678", "nested": ["350602199001011235"]},
        )
        event.refresh_from_db()
        assert event.actor_label == "138****5678"
        assert event.details == {"typed": "138****5678", "nested": ["3506**********1235"]}

    def test_deleting_a_user_keeps_their_audit_events(self):
        user = make_user("gone")
        record(AuditKind.LOGOUT, actor=user)
        user.delete()
        event = AuditEvent.objects.get(kind=AuditKind.LOGOUT)
        assert event.actor_id is not None
        assert event.actor_label == "gone"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_update_delete_of_audit_rows_whatever_the_role():
    record(AuditKind.RETENTION_RUN, actor_label="system")
    for statement in (
        "UPDATE audit_auditevent SET kind = 'logout'",
        "DELETE FROM audit_auditevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.filter(kind=AuditKind.RETENTION_RUN).count() == 1


class TestLogins:
    def test_success_failure_and_logout_are_recorded_without_the_phone(self, client):
        user = make_user("wang", phone="13800001234")
        login = reverse("accounts:login")
        client.post(login, {"username": "13800001234", "password": "wrong-password"})
        client.post(login, {"username": "13800001234", "password": DEFAULT_PASSWORD})
        client.post(reverse("accounts:logout"))
        assert kinds() == [AuditKind.LOGIN_FAILED, AuditKind.LOGIN_SUCCEEDED, AuditKind.LOGOUT]
        failed, succeeded, logout = AuditEvent.objects.order_by("id")
        assert failed.actor_id is None
        assert failed.actor_label == "138****1234"
        assert failed.ip == "127.0.0.1"
        assert succeeded.actor_id == logout.actor_id == user.pk
        for event in AuditEvent.objects.all():
            assert "13800001234" not in str(event.details) + event.actor_label + event.path

    def test_behind_the_proxy_the_client_address_is_recorded(self, client, settings):
        """Review M6.1/L2: the address recorded is the client's the trusted proxy names, and a
        header from anyone else is not believed."""
        settings.CLIENT_IP_META = "HTTP_X_REAL_IP"
        settings.TRUSTED_PROXIES = ["172.30.0.1"]
        make_user("wang", phone="13800001234")
        login = reverse("accounts:login")
        form = {"username": "wang", "password": "wrong-password"}
        client.post(login, form, REMOTE_ADDR="172.30.0.1", HTTP_X_REAL_IP="198.51.100.4")
        client.post(login, form, REMOTE_ADDR="203.0.113.9", HTTP_X_REAL_IP="198.51.100.5")
        proxied, direct = AuditEvent.objects.order_by("id")
        assert (proxied.ip, direct.ip) == ("198.51.100.4", "203.0.113.9")


class TestAccessDenied:
    def test_a_refused_api_request_is_recorded(self, client):
        resident = make_user("res", roles=[RoleCode.RESIDENT])
        client.force_login(resident)
        response = client.get("/api/v1/kpis")
        assert response.status_code == 403
        event = AuditEvent.objects.get(kind=AuditKind.ACCESS_DENIED)
        assert event.actor_id == resident.pk
        assert event.details == {"method": "GET", "status": 403}
        assert event.path == "/api/v1/kpis"

    def test_anonymous_api_request_is_recorded_as_denied(self, client):
        response = client.get("/api/v1/me")
        assert response.status_code in (401, 403)
        event = AuditEvent.objects.get(kind=AuditKind.ACCESS_DENIED)
        assert event.actor_id is None
        assert event.path == "/api/v1/me"

    def test_admin_site_lists_the_log_read_only(self, client):
        admin = make_user("root", is_superuser=True, is_staff=True)
        record(AuditKind.RETENTION_RUN, actor_label="system")
        client.force_login(admin)
        changelist = client.get(
            reverse("admin:audit_auditevent_changelist") + "?kind=retention_run"
        )
        assert changelist.status_code == 200
        assert reverse("admin:audit_auditevent_add") not in changelist.content.decode()
        event = AuditEvent.objects.get(kind=AuditKind.RETENTION_RUN)
        response = client.post(
            reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}
        )
        assert response.status_code == 403
        assert AuditEvent.objects.filter(pk=event.pk).exists()
