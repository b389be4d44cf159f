"""The security policy: separated administrators (三员分立), who needs a second factor, how many
sessions a staff account may hold. docs/security.md maps each rule to its test.

Separated administrators (等保2.0 三级, 安全管理中心): an account holding one of
SYSTEM_ADMIN, SECURITY_ADMIN, AUDIT_ADMIN holds no other role, so that
- the system administrator configures (policies, categories, rooms, calendars) but grants nothing;
- the security administrator grants roles and scopes, resets second factors, ends sessions, and
  changes no business data (holding no business role, they use no role they could grant);
- the audit administrator reads and exports the audit log, and nothing else.
The existing business administrator ("admin") keeps the whole city's business work and its
configuration pages, but grants no role: granting is the security administrator's alone (in the
portal and in the Django admin); a superuser exists for installation only (refused at sign-in in
production unless SUPERUSER_SIGN_IN_ALLOWED).

The rule is checked by the services (a clear message) and by the model (an m2m_changed receiver in
accounts.signals refuses any other write of the roles, the Django admin and the shell included).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.utils.translation import gettext as _

from accounts.models import RoleCode, SecurityPolicy, User

SEPARATED_ADMIN_ROLES = frozenset(
    {RoleCode.SYSTEM_ADMIN, RoleCode.SECURITY_ADMIN, RoleCode.AUDIT_ADMIN}
)
# The default second-factor roles (the data migration writes them into the policy row; they
# apply too while the row is missing).
DEFAULT_TWO_FACTOR_ROLES = (
    RoleCode.ADMIN,
    RoleCode.SYSTEM_ADMIN,
    RoleCode.SECURITY_ADMIN,
    RoleCode.AUDIT_ADMIN,
    RoleCode.SUPERVISOR,
    RoleCode.PETITION_OFFICER,
)
# Every role that counts as staff for the concurrent-session limit.
STAFF_ROLE_CODES = frozenset(
    {
        RoleCode.GRID_WORKER,
        RoleCode.DISPATCHER,
        RoleCode.DEPARTMENT_HANDLER,
        RoleCode.MEDIATOR,
        RoleCode.PETITION_OFFICER,
        RoleCode.SUPERVISOR,
        RoleCode.ADMIN,
        RoleCode.POLICE_OFFICER,
        RoleCode.SERVICE_HANDLER,
        *SEPARATED_ADMIN_ROLES,
    }
)

CACHE_KEY = "accounts:security-policy:v1"
CACHE_SECONDS = 30


def separation_problem(codes: Iterable[str]) -> str | None:
    """Why this set of roles may not be held by one account (None: it may)."""
    codes = {str(code) for code in codes}
    separated = codes & {str(code) for code in SEPARATED_ADMIN_ROLES}
    if separated and len(codes) > 1:
        return _(
            "The system, security and audit administrators are separate accounts: an account "
            "holding one of them holds no other role."
        )
    return None


def policy_values() -> dict:
    """The policy as plain values (cached for CACHE_SECONDS; saving the policy clears it)."""
    values = cache.get(CACHE_KEY)
    if values is not None:
        return values
    row = SecurityPolicy.objects.order_by("pk").first()
    if row is None:
        values = {
            "two_factor_roles": sorted(str(code) for code in DEFAULT_TWO_FACTOR_ROLES),
            "key_person": True,
            "max_sessions": 3,
        }
    else:
        values = {
            "two_factor_roles": sorted(row.two_factor_roles.values_list("code", flat=True)),
            "key_person": row.two_factor_key_person_access,
            "max_sessions": row.max_sessions_per_staff,
        }
    cache.set(CACHE_KEY, values, CACHE_SECONDS)
    return values


def policy_forget() -> None:
    cache.delete(CACHE_KEY)


# Key-person access (registry, above accounts in the layers) is granted by a later app: it
# registers a predicate here from its AppConfig.ready(), e.g.
#     two_factor_requirement_register("key_person", lambda user: user.key_person_grants.exists())
# and the policy's "two-factor sign-in for key-person access" switch turns it on or off.
_requirements: dict[str, Callable[[User], bool]] = {}


def two_factor_requirement_register(name: str, predicate: Callable[[User], bool]) -> None:
    """Register (or replace) a reason an account needs a second factor beyond its roles."""
    _requirements[name] = predicate


def two_factor_required(user: User) -> bool:
    """Whether the user must pass a second factor (TOTP or a recovery code) after the password."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    values = policy_values()
    if user.role_codes & set(values["two_factor_roles"]):
        return True
    for name, predicate in _requirements.items():
        if name == "key_person" and not values["key_person"]:
            continue
        if predicate(user):
            return True
    return False


def is_staff_account(user: User) -> bool:
    return user.is_superuser or bool(user.role_codes & {str(c) for c in STAFF_ROLE_CODES})
