"""Demo logins for the three separated administrators (issue 23). Idempotent. The password is
the demo password of grids/demo.py (accounts sits below grids: the constant is repeated). The
second factor is enforced outside tests: each enrols an authenticator app at first sign-in
(or set TWO_FACTOR_ENFORCED=0 on a developer's machine)."""

from __future__ import annotations

from accounts.models import Role, User

DEMO_PASSWORD = "Demo-2026!"  # noqa: S105 - published demo logins, documented  # nosec B105
DEMO_ADMINS = (
    ("demo_sysadmin", "system_admin", "系统管理员（演示）"),
    ("demo_secadmin", "security_admin", "安全管理员（演示）"),
    ("demo_auditadmin", "audit_admin", "审计管理员（演示）"),
)


def load_demo() -> None:
    for username, code, name in DEMO_ADMINS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"display_name": name, "is_staff": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        role, _ = Role.objects.get_or_create(code=code)
        if set(user.roles.values_list("code", flat=True)) != {code}:
            user.roles.clear()
            user.roles.add(role)
