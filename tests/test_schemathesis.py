"""schemathesis over the whole OpenAPI schema (/api/v1/schema/), in process, as every role.

The schema is loaded from the Django app through its WSGI interface
(`schemathesis.openapi.from_wsgi`); for every operation hypothesis draws a bounded, fixed set of
requests (derandomized: the same cases on every run) from the schema — some that fit it, one
that breaks it — and each request is sent as every role (resident, grid worker, dispatcher,
department handler, mediator, petition officer, supervisor, admin, anonymous). Each answer must
be no server error (5xx) and conform to the schema: a declared status code, a declared content
type and a body matching the declared schema (JSON Schema). All failures are collected (no
shrinking) and reported together.

With GRIDGOV_RELIABILITY_DIR set, the figures go to $GRIDGOV_RELIABILITY_DIR/schemathesis.json:
{"cases": N, "server_errors": N, "schema_violations": N} (merged by `make chaos`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup, ServerError
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/v1/schema/"
# Requests drawn per operation; each one is sent as every role (9), so ~108 operations give
# about 108 x 3 x 9 ≈ 2,900 requests: a minute or two on SQLite.
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "2"))
# ... plus requests that break the schema on purpose (wrong types, missing fields): 400s.
NEGATIVE_EXAMPLES = int(os.environ.get("SCHEMATHESIS_NEGATIVE_EXAMPLES", "1"))
BACKEND = "accounts.backends.PhoneOrUsernameBackend"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def world(region_tree):
    """The test city (incidents.tests.factories.build_city) plus a mediator, a petition officer
    and a few incidents, mediation and petition objects for the generated ids to hit."""
    from incidents.models import IncidentState as S
    from incidents.tests.factories import build_city, make_incident
    from tests.builders import make_user

    city = build_city(region_tree)

    city.mediator = make_user(
        "mediator", roles=["mediator"], region=city.street_a, phone="13700000010"
    )
    city.petition_officer = make_user(
        "petition_officer", roles=["petition_officer"], region=city.district, phone="13700000011"
    )
    for state in (S.REPORTED, S.VERIFYING, S.VERIFIED, S.DISPATCHED, S.ACCEPTED, S.RESOLVED):
        make_incident(city, state=state)
    make_incident(city, state=S.FEEDBACK_SENT, cell="cell_b1_1")
    return city


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client.cookies["sessionid"].value


@pytest.fixture
def identities(world) -> dict[str, dict]:
    """Cookies and headers per role (a session and a CSRF token: DRF's session
    authentication checks CSRF on every unsafe request of a signed-in user)."""
    roles = {
        "resident": world.resident,
        "grid_worker": world.worker,
        "dispatcher": world.dispatcher,
        "department_handler": world.handler,
        "mediator": world.mediator,
        "petition_officer": world.petition_officer,
        "supervisor": world.supervisor,
        "admin": world.admin,
        "anonymous": None,
    }
    result = {}
    for role, user in roles.items():
        token = _get_new_csrf_string()
        cookies = {"csrftoken": token}
        if user is not None:
            cookies["sessionid"] = _session_cookie(user)
        result[role] = {"cookies": cookies, "headers": {"X-CSRFToken": token}}
    return result


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, sharing the test's database connection: the request signals
    must not close it mid-test (Django's own test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _describe(failure: Failure) -> str:
    """The failure's title, first line and, for a body, where in the schema it broke."""
    lines = (failure.message or "").strip().splitlines()
    where = next((line for line in lines if line.startswith("Schema at")), "")
    return f"{failure.title}: {lines[0][:200] if lines else ''} {where}".strip()


def test_every_endpoint_as_every_role_conforms_and_never_fails(wsgi_app, identities):
    schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50  # the whole API, not a fragment

    counts: Counter[str] = Counter()
    problems: dict[str, set[str]] = {}

    def record(operation, role: str, kind: str, text: str) -> None:
        counts[kind] += 1
        problems.setdefault(f"{operation.method.upper()} {operation.path} [{role}]", set()).add(
            text
        )

    def exercise(operation, mode: GenerationMode, examples: int) -> None:
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # every failure is collected, none shrunk
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            for role, identity in identities.items():
                cache.clear()  # throttles count per client address: every role starts fresh
                counts["cases"] += 1
                response = case.call(headers=identity["headers"], cookies=identity["cookies"])
                try:
                    case.validate_response(response, checks=CHECKS)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        kind = "server_errors" if isinstance(failure, ServerError) else "violations"
                        record(operation, role, kind, _describe(failure))

        run()

    for operation in operations:
        exercise(operation, GenerationMode.POSITIVE, EXAMPLES_PER_OPERATION)
        # An operation without input has nothing to make invalid (Unsatisfiable).
        with contextlib.suppress(Unsatisfiable):
            exercise(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)

    figures = {
        "cases": counts["cases"],
        "server_errors": counts["server_errors"],
        "schema_violations": counts["violations"],
    }
    directory = os.environ.get("GRIDGOV_RELIABILITY_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "schemathesis.json").write_text(json.dumps(figures, indent=2) + "\n")
    report = "\n".join(
        f"{where}\n    " + "\n    ".join(sorted(texts)) for where, texts in sorted(problems.items())
    )
    assert figures["server_errors"] == 0 and figures["schema_violations"] == 0, (
        f"{figures}\n{report}"
    )
