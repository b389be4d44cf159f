"""The portal menu: one list, filtered by role. Entries whose URL does not exist yet are skipped."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (label, url name, roles allowed; None = every signed-in user)
MENU = [
    (_("Home"), "home", None),
    (_("Grid map"), "grids:map", None),
    (_("My tasks"), "incidents:my_tasks", {"grid_worker", "department_handler"}),
    (_("Patrol log"), "incidents:patrols", {"grid_worker", "dispatcher", "supervisor"}),
    (_("Report an incident"), "incidents:report", None),
    (_("My reports"), "incidents:my_reports", {"resident"}),
    (_("My centre"), "residents:mine", {"resident", "volunteer"}),
    (_("Dispatch queue"), "incidents:queue", {"dispatcher", "supervisor", "admin"}),
    (_("Overdue board"), "incidents:overdue", {"dispatcher", "supervisor", "admin"}),
    (_("Mediation"), "mediation:home", None),
    (_("Petitions"), "petitions:home", None),
    (
        _("Grid basic data"),
        "registry:home",
        {"grid_worker", "dispatcher", "supervisor", "police_officer", "admin"},
    ),
    (
        _("Dispute screening"),
        "screening:list",
        {"grid_worker", "mediator", "dispatcher", "supervisor", "police_officer", "admin"},
    ),
    (
        _("Tasks from above"),
        "assignments:home",
        {"grid_worker", "dispatcher", "supervisor", "admin", "department_handler"},
    ),
    (
        _("Volunteers"),
        "volunteers:home",
        {"resident", "volunteer", "grid_worker", "dispatcher", "supervisor", "police_officer"},
    ),
    (_("Resident services"), "resident_services:home", None),
    (_("Community deliberation"), "deliberation:home", None),
    (_("Dashboard"), "governance:dashboard", {"supervisor", "dispatcher", "admin"}),
    (_("Audit log"), "audit:events", {"audit_admin"}),
    (_("Accounts and roles"), "accounts:security_users", {"security_admin"}),
    (
        _("Administration"),
        "admin:index",
        {"admin", "system_admin", "security_admin", "audit_admin"},
    ),
]


def menu_for(user) -> list[dict]:
    items = []
    roles = user.role_codes if getattr(user, "is_authenticated", False) else set()
    for label, url_name, allowed in MENU:
        if allowed is not None and not (roles & allowed) and not user.is_superuser:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "name": url_name})
    return items
