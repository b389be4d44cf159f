"""Extensions of the access matrix (tests/test_access_matrix.py), one module per app added after
issue 16, so that each app keeps its routes, data and expectations beside the others instead of
inside one long file. Every module here (not starting with "_") is found and used; it may define:

ROLES           extra role names (a user each), e.g. ("volunteer",);
STAFF_ROLES     those of ROLES that count as staff (see STAFF in the matrix);
ADMIN_STAFF     those of ROLES the Django admin site lets in (is_staff; see test_admin_family);
routes(m)       -> {url name: m.Route(...)} for every URL of the app (m is the matrix module,
                   so the module uses m.Route, m.login_page, m.object_page, m.SEES ...);
build(m, w)     adds to the world: w.users[role] for its ROLES, w.obj[key], w.markers[family]
                   (unique texts that must not leak), m.SEES[key], m.WRITERS[key], and appends
                   the families the leak check reads to m.EXTRA_FAMILIES;
snapshot(w)     -> a value of whatever a foreign write must not change (rows as dicts);
changed(w, before, after) -> the keys (of SEES) whose objects differ between two snapshots.

Modules import nothing from the matrix at import time (the matrix imports this package first).
"""

from __future__ import annotations

import importlib
import pkgutil

MODULES = [
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)
    if not info.name.startswith("_")
]
# A role two modules need (e.g. "police") is one user: the first module's build() makes it, the
# others reuse w.users[role] when it is there.
EXTRA_ROLES: list[str] = list(
    dict.fromkeys(role for module in MODULES for role in getattr(module, "ROLES", ()))
)
EXTRA_STAFF: set[str] = {role for module in MODULES for role in getattr(module, "STAFF_ROLES", ())}
EXTRA_ADMIN_STAFF: set[str] = {
    role for module in MODULES for role in getattr(module, "ADMIN_STAFF", ())
}
