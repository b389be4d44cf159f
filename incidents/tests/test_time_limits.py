"""Stage limits from the category, the incident's urgency and the admin-editable IncidentPolicy
(domain review #3 urgent flag, #5 policy, untested 10-minute and 1 h / 2 h rules)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from incidents import services
from incidents.models import IncidentPolicy, IncidentState
from incidents.tests.conftest import IN_A1_1
from incidents.tests.factories import make_incident

S = IncidentState
pytestmark = pytest.mark.django_db
# A Tuesday morning: calendar minutes and hours only, no holiday in reach.
T0 = datetime(2026, 11, 17, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _reported_then_verified(city, run_on_commit, **report):
    with time_machine.travel(T0, tick=False):
        incident = run_on_commit(
            services.incident_report,
            description="紧急情况",
            lat=IN_A1_1[0],
            lng=IN_A1_1[1],
            **report,
        )
        incident.refresh_from_db()
        assert incident.state == S.VERIFYING
        verify_limit = incident.verify_due_at - incident.created_at
        run_on_commit(services.incident_verify, incident_id=incident.pk, actor=city.worker)
        incident.refresh_from_db()
        dispatch_limit = incident.dispatch_due_at - incident.verified_at
    return incident, verify_limit, dispatch_limit


def test_an_urgent_category_is_verified_and_dispatched_within_10_minutes(city, run_on_commit):
    # 0205 is urgent; its own row says verify within 30m: the urgent rule (10 min) wins.
    incident, verify_limit, dispatch_limit = _reported_then_verified(
        city,
        run_on_commit,
        actor=city.resident,
        category=city.categories["0205"],
        channel="resident_web",
    )
    assert incident.urgent
    assert verify_limit == timedelta(minutes=10)
    assert dispatch_limit == timedelta(minutes=10)


def test_a_partners_urgent_flag_shortens_a_non_urgent_categorys_limits(city, run_on_commit):
    # 0102 (exposed rubbish) is not urgent: 1h to verify, 30m to dispatch, unless flagged.
    incident, verify_limit, dispatch_limit = _reported_then_verified(
        city,
        run_on_commit,
        actor=None,
        category=city.categories["0102"],
        channel="hotline_12345",
        reporter_phone="13912345678",
        external_id="P:URGENT-1",
        urgent=True,
    )
    assert incident.urgent and not incident.category.urgent
    assert verify_limit == timedelta(minutes=10)
    assert dispatch_limit == timedelta(minutes=10)
    _plain, verify_plain, dispatch_plain = _reported_then_verified(
        city,
        run_on_commit,
        actor=None,
        category=city.categories["0102"],
        channel="hotline_12345",
        reporter_phone="13912345678",
        external_id="P:PLAIN-1",
    )
    assert (verify_plain, dispatch_plain) == (timedelta(hours=1), timedelta(minutes=30))


def test_the_urgent_limits_come_from_the_policy(city):
    IncidentPolicy.objects.create(urgent_verify_within="5m", urgent_dispatch_within="7m")
    incident = make_incident(city, urgent=True)
    assert services.stage_due(incident, "verify_within", T0) == T0 + timedelta(minutes=5)
    assert services.stage_due(incident, "dispatch_within", T0) == T0 + timedelta(minutes=7)


def test_a_category_without_limits_uses_the_policys_defaults(city):
    category = city.categories["0102"]
    category.verify_within = category.dispatch_within = ""
    category.save()
    incident = make_incident(city)
    assert services.stage_due(incident, "verify_within", T0) == T0 + timedelta(hours=1)
    IncidentPolicy.objects.create(verify_within="3h", dispatch_within="45m")
    incident.refresh_from_db()
    assert services.stage_due(incident, "verify_within", T0) == T0 + timedelta(hours=3)
    assert services.stage_due(incident, "dispatch_within", T0) == T0 + timedelta(minutes=45)


def test_check_limit_is_1_hour_in_a_community_and_2_in_a_village(city):
    community = make_incident(city, region_code="350602001001")
    village = make_incident(city, region_code="350602101201")  # village digits 201 (>= 200)
    assert services.check_limit_for(community) == "1h"
    assert services.check_limit_for(village) == "2h"


def test_changing_the_policy_changes_the_check_limit(city):
    IncidentPolicy.objects.create(check_within_urban="30m", check_within_rural="4h")
    community = make_incident(city, region_code="350602001001")
    village = make_incident(city, region_code="350602101201")
    assert services.check_limit_for(community) == "30m"
    assert services.check_limit_for(village) == "4h"


def test_a_resolved_case_in_a_community_is_checked_within_1_hour(city, run_on_commit):
    incident = make_incident(
        city,
        state=S.ACCEPTED,
        assignee=city.handler,
        handling_level="department",
        handling_department="城管执法",
    )
    assert incident.region_code[9:12] < "200"
    with time_machine.travel(T0, tick=False):
        run_on_commit(
            services.incident_resolve, incident_id=incident.pk, actor=city.handler, result="ok"
        )
    incident.refresh_from_db()
    assert incident.check_required and incident.check_due_at == T0 + timedelta(hours=1)


def test_the_policy_is_one_row_with_the_current_values_as_defaults(admin_client):
    policy = IncidentPolicy.current()
    assert policy.pk is None
    assert (policy.verify_within, policy.dispatch_within, policy.resolve_within) == (
        "1h",
        "30m",
        "5wd",
    )
    assert (policy.check_within_urban, policy.check_within_rural) == ("1h", "2h")
    assert (policy.urgent_verify_within, policy.urgent_dispatch_within) == ("10m", "10m")
    response = admin_client.get("/admin/incidents/incidentpolicy/add/")
    assert response.status_code == 200
    bad = admin_client.post(
        "/admin/incidents/incidentpolicy/add/",
        dict.fromkeys(IncidentPolicy.LIMIT_FIELDS, "soon"),
    )
    assert bad.status_code == 200 and not IncidentPolicy.objects.exists()
