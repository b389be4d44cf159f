"""Separated administrators (三员分立, issue 23): the system administrator configures, the
security administrator grants, the audit administrator reads the audit log; no account holds two
of them; nobody both grants a role and uses it, or both changes data and erases its trail."""

import pytest
from django.contrib import admin as django_admin
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import RequestFactory

from accounts import services
from accounts.backends import superuser_sign_in_allowed
from accounts.models import Role, User
from accounts.tests.otp import verified_client
from audit.models import AuditEvent
from core.exceptions import PermissionDeniedError, ValidationFailed
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(db):
    return {
        code: make_user(code, roles=[code], is_staff=True)
        for code in ("system_admin", "security_admin", "audit_admin", "admin")
    }


@pytest.mark.parametrize(
    "codes",
    [
        ["system_admin", "security_admin"],
        ["security_admin", "audit_admin"],
        ["system_admin", "audit_admin"],
        ["security_admin", "dispatcher"],
        ["audit_admin", "admin"],
    ],
)
def test_no_account_holds_a_separated_administrator_and_another_role(admins, codes):
    target = make_user("target")
    with pytest.raises(ValidationFailed):
        services.user_roles_set(
            actor=admins["security_admin"],
            user_id=target.pk,
            role_codes=codes,
            scope_region_id=None,
        )
    # The model-level check: any other write of the roles (shell, admin, a bug) is refused too.
    with pytest.raises(ValidationError), transaction.atomic():
        target.roles.set(Role.objects.filter(code__in=codes))
    holder = admins[codes[0]]
    with pytest.raises(ValidationError), transaction.atomic():
        Role.objects.get(code=codes[1]).users.add(holder)
    assert holder.roles.count() == 1
    assert set(User.objects.get(pk=target.pk).roles.values_list("code", flat=True)) <= {codes[0]}


def test_only_the_security_admin_grants_and_it_is_audited(admins, region_tree):
    target = make_user("wang")
    for code in ("system_admin", "audit_admin", "admin"):
        with pytest.raises(PermissionDeniedError):
            services.user_roles_set(
                actor=admins[code],
                user_id=target.pk,
                role_codes=["dispatcher"],
                scope_region_id=None,
            )
    services.user_roles_set(
        actor=admins["security_admin"],
        user_id=target.pk,
        role_codes=["dispatcher"],
        scope_region_id=region_tree["street_a"].pk,
    )
    target = User.objects.get(pk=target.pk)
    assert target.role_codes == {"dispatcher"} and target.scope_region == region_tree["street_a"]
    event = AuditEvent.objects.get(kind="roles_changed")
    assert (
        event.details["after"] == ["dispatcher"] and event.actor_id == admins["security_admin"].pk
    )


def test_no_single_account_can_both_grant_a_role_and_use_it(admins):
    security = admins["security_admin"]
    # Granting to oneself is refused...
    with pytest.raises(PermissionDeniedError):
        services.user_roles_set(
            actor=security, user_id=security.pk, role_codes=["dispatcher"], scope_region_id=None
        )
    # ...and so is holding a business role beside the granting one, whoever grants it.
    other_security = make_user("sec2", roles=["security_admin"])
    with pytest.raises(ValidationFailed):
        services.user_roles_set(
            actor=other_security,
            user_id=security.pk,
            role_codes=["security_admin", "dispatcher"],
            scope_region_id=None,
        )
    # Every account able to grant holds no role it could use; every account using a role
    # cannot grant.
    for user in User.objects.all():
        if services.may_administer_security(user) and not user.is_superuser:
            assert user.role_codes == {"security_admin"}
        if user.role_codes - {"security_admin"}:
            assert not services.may_administer_security(user)


def test_no_single_account_can_both_change_data_and_erase_its_audit_trail(admins):
    """Those who change data (business admin, system admin) cannot read or touch the audit log;
    the audit administrator reads it only; and nobody, superuser included, can change or delete
    a row through the application (the chain would show a raw SQL change: test_chain.py)."""
    from audit.admin import AuditEventAdmin
    from audit.models import AuditEvent as Event

    services.user_sessions_end(actor=admins["security_admin"], user_id=admins["admin"].pk)
    event = Event.objects.first()
    assert event is not None
    model_admin = AuditEventAdmin(Event, django_admin.site)
    root = User.objects.create_superuser("root", password=DEFAULT_PASSWORD)
    request = RequestFactory().get("/admin/")
    for user in [*admins.values(), root]:
        request.user = user
        assert not model_admin.has_delete_permission(request, event)
        assert not model_admin.has_change_permission(request, event)
        if user.is_superuser or "audit_admin" in user.role_codes:
            continue
        assert not user.has_perm("audit.view_auditevent")
    assert admins["audit_admin"].has_perm("audit.view_auditevent")
    assert not admins["audit_admin"].has_perm("audit.delete_auditevent")
    with pytest.raises(RuntimeError):
        event.delete()
    with pytest.raises(RuntimeError):
        Event.objects.all().delete()
    with pytest.raises(RuntimeError):
        Event.objects.filter(pk=event.pk).update(kind="logout")
    if connection.vendor == "postgresql":  # the trigger refuses it whatever the role
        from django.db import DatabaseError

        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])


def test_django_admin_permissions_follow_the_separated_roles(admins):
    system, security, audit = (admins[c] for c in ("system_admin", "security_admin", "audit_admin"))
    assert system.has_perm("incidents.change_category")
    assert system.has_perm("accounts.change_securitypolicy")
    assert not system.has_perm("accounts.change_user")
    assert not system.has_perm("integrations.add_apikey")
    assert security.has_perm("accounts.change_user")
    assert security.has_perm("integrations.add_apikey")
    assert not security.has_perm("incidents.change_category")
    assert not security.has_perm("incidents.change_incident")
    assert not security.has_perm("otp_totp.delete_totpdevice")  # resets go through the page
    assert audit.has_module_perms("audit") and not audit.has_module_perms("incidents")
    assert not admins["admin"].has_perm("accounts.change_user")


def test_in_the_django_admin_only_the_security_admin_sets_roles_and_not_their_own(admins):
    from accounts.admin import UserAdmin

    model_admin = UserAdmin(User, django_admin.site)
    request = RequestFactory().get("/admin/")
    request.user = admins["security_admin"]
    other = make_user("someone")
    assert "roles" not in model_admin.get_readonly_fields(request, other)
    assert "is_superuser" in model_admin.get_readonly_fields(request, other)
    assert "roles" in model_admin.get_readonly_fields(request, admins["security_admin"])
    request.user = admins["system_admin"]
    assert "roles" in model_admin.get_readonly_fields(request, other)


def test_the_admin_site_opens_for_each_separated_admin_on_their_own_models(admins):
    for code, allowed, refused in (
        ("system_admin", "/admin/incidents/category/", "/admin/accounts/user/"),
        ("security_admin", "/admin/accounts/user/", "/admin/incidents/category/"),
        ("audit_admin", "/admin/audit/auditevent/", "/admin/accounts/user/"),
    ):
        client = verified_client(admins[code])
        assert client.get(allowed).status_code == 200, code
        assert client.get(refused).status_code == 403, code


def test_the_security_pages_are_the_security_admins(admins):
    target = make_user("li")
    for code in ("system_admin", "audit_admin", "admin"):
        client = verified_client(admins[code])
        assert client.get("/accounts/security/users/").status_code == 403
        assert client.get(f"/accounts/security/users/{target.pk}/").status_code == 403
    client = verified_client(admins["security_admin"])
    assert client.get("/accounts/security/users/", {"q": "li"}).status_code == 200
    response = client.post(
        f"/accounts/security/users/{target.pk}/",
        {"action": "roles", "roles": ["security_admin", "admin"]},
    )
    assert response.status_code == 400
    assert not User.objects.get(pk=target.pk).role_codes


def test_a_superuser_is_refused_at_sign_in_in_production_unless_allowed(settings, client):
    root = User.objects.create_superuser("root", password=DEFAULT_PASSWORD)
    settings.SUPERUSER_SIGN_IN_ALLOWED = False
    assert not superuser_sign_in_allowed()
    response = client.post("/accounts/login/", {"username": "root", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    settings.SUPERUSER_SIGN_IN_ALLOWED = True
    response = client.post("/accounts/login/", {"username": "root", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert root.pk


def test_the_demo_administrators_load_twice():
    from accounts.demo import load_demo

    load_demo()
    load_demo()
    for username, code in (("demo_sysadmin", "system_admin"), ("demo_auditadmin", "audit_admin")):
        user = User.objects.get(username=username)
        assert user.role_codes == {code} and user.is_staff


def test_the_django_admin_never_shows_a_totp_secret_or_recovery_codes(admins):
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    target = make_user("withdevice")
    device = TOTPDevice.objects.create(user=target, name="app", confirmed=True)
    codes = services.recovery_codes_new(user=target)
    assert StaticToken.objects.filter(token=codes[0]).exists()
    client = verified_client(admins["security_admin"])
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert device.key not in html and "otpauth" not in html
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code != 200
    static = client.get("/admin/otp_static/staticdevice/")
    assert static.status_code == 200 and codes[0] not in static.content.decode()
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/").status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
