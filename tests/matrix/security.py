"""Access matrix: the pages of issue 23 (two-factor sign-in, my sessions, the security
administrator's accounts pages, the audit administrator's viewer) and the three separated
administrators as roles.

The matrix signs everybody in with force_login and TWO_FACTOR_ENFORCED is off in the test
settings, so these rows check the permissions of each page; the second-factor gate itself is
tested in accounts/tests/test_two_factor.py. The matrix "admin" is the installation superuser:
it may use the security pages (to appoint the first security administrator), not the audit
viewer."""

from __future__ import annotations

from typing import Any

ROLES = ("sysadmin", "secadmin", "auditadmin")
STAFF_ROLES: tuple[str, ...] = ()
ADMIN_STAFF = ROLES  # the Django admin site lets them in (each sees only its own models)

SECURITY = {"secadmin", "admin"}
AUDIT = {"auditadmin"}


def routes(m) -> dict[str, Any]:
    target = {"targets": ("sec_target",), "kwargs": m.pk_of("pk")}
    return {
        # Without a device the second-factor step sends on to the enrolment page.
        "accounts:two_factor_verify": m.Route(get=m.signed(302), post=m.signed(302)),
        "accounts:two_factor_enrol": m.Route(get=m.signed(200), post=m.signed(200)),
        # New recovery codes need a device and a verified session: nobody here.
        "accounts:recovery_codes": m.Route(get=m.signed(405), post=m.signed(403)),
        "accounts:session_end": m.Route(
            get=m.signed(405), post=m.signed(302), body=lambda w, t: {"session": "nope"}
        ),
        "accounts:security_users": m.Route(get=m.login_page(SECURITY)),
        "accounts:security_user": m.Route(
            get=m.login_page(SECURITY),
            post=m.login_page(SECURITY, ok_status=302),
            body=lambda w, t: {"action": "roles", "roles": ["admin"]},
            **target,
        ),
        "audit:events": m.Route(get=m.login_page(AUDIT)),
        "audit:events_export": m.Route(get=m.login_page(AUDIT)),
    }


def build(m, w) -> None:
    from tests.builders import make_user

    # is_staff as accounts.services.user_roles_set sets it for the separated administrators.
    w.users["sysadmin"] = make_user("matrix_sysadmin", roles=["system_admin"], is_staff=True)
    w.users["secadmin"] = make_user("matrix_secadmin", roles=["security_admin"], is_staff=True)
    w.users["auditadmin"] = make_user("matrix_auditadmin", roles=["audit_admin"], is_staff=True)
    w.obj["sec_target"] = make_user("matrix_sec_target", roles=["dispatcher"])
    m.SEES["sec_target"] = SECURITY
    # Cell outlines and community names are public to every signed-in user without a region
    # (as to residents); the separated administrators have none.
    for family in ("cell_b", "community_b"):
        m.SEES[family] = m.SEES[family] | set(ROLES)
    m.WRITERS["sec_target"] = SECURITY


def snapshot(w) -> Any:
    user = w.obj["sec_target"]
    return sorted(user.roles.values_list("code", flat=True))


def changed(w, before, after) -> set[str]:
    return {"sec_target"} if before != after else set()
