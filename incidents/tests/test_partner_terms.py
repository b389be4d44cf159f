"""incident_report(urgent=..., resolve_by=...): a reporting partner's urgency and deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.calendar import add_limit
from core.exceptions import ValidationFailed
from incidents import services
from incidents.models import Action, Channel, Incident, IncidentEvent, IncidentState
from incidents.tests.conftest import IN_A1_1

pytestmark = pytest.mark.django_db
S = IncidentState


def report(city, **kwargs) -> Incident:
    return services.incident_report(
        actor=None,
        category=city.categories[kwargs.pop("code", "0101")],  # 城管执法, 20wd, not urgent
        description="12345 来电",
        channel=Channel.HOTLINE_12345,
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
        reporter_phone="13912345678",
        **kwargs,
    )


def test_urgent_overrides_the_category(city):
    assert report(city).urgent is False
    assert report(city, urgent=True).urgent is True
    assert report(city, code="0401").urgent is True  # an urgent category
    assert report(city, code="0401", urgent=False).urgent is False
    with pytest.raises(ValidationFailed) as caught:
        report(city, urgent="yes")
    assert "urgent" in caught.value.extra


def test_the_partners_deadline_is_recorded_and_honoured_at_dispatch(city, run_on_commit):
    due = add_limit(timezone.now(), "3wd")
    incident = run_on_commit(report, city, resolve_by=due)
    assert incident.external_due_at == due
    row = IncidentEvent.objects.get(incident=incident, action=Action.PARTNER_DEADLINE)
    assert row.public is False and row.from_state == row.to_state == S.REPORTED
    incident.refresh_from_db()
    assert incident.state == S.VERIFYING
    run_on_commit(services.incident_verify, incident_id=incident.pk, actor=incident.verifier)
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED  # routed by the rules
    assert incident.resolve_due_at == due == incident.due_at
    # no second partner-deadline row: the engine applied it itself
    assert (
        IncidentEvent.objects.filter(incident=incident, action=Action.PARTNER_DEADLINE).count() == 1
    )
    # escalation keeps the partner's deadline while it lies ahead
    run_on_commit(
        services.incident_escalate, incident_id=incident.pk, actor=city.supervisor, reason="慢"
    )
    incident.refresh_from_db()
    assert incident.resolve_due_at == due


def test_a_missed_or_extended_partner_deadline_yields_to_the_category(city):
    incident = report(city, resolve_by=timezone.now() - timedelta(hours=1))
    now = timezone.now()
    assert services.resolve_due_for(incident, now=now) == add_limit(now, "20wd")
    incident.external_due_at = now + timedelta(days=2)
    assert services.resolve_due_for(incident, now=now) == now + timedelta(days=2)
    incident.extension_count = 1
    assert services.resolve_due_for(incident, now=now) == add_limit(now, "20wd")


def test_restore_after_a_bulk_write(city):
    due = timezone.now() + timedelta(days=3)
    incident = report(city, resolve_by=due)
    assert services.incident_partner_deadline_restore(incident_id=incident.pk) is False
    Incident.objects.filter(pk=incident.pk).update(
        state=S.DISPATCHED, resolve_due_at=timezone.now() + timedelta(days=30)
    )
    assert services.incident_partner_deadline_restore(incident_id=incident.pk) is True
    assert services.incident_partner_deadline_restore(incident_id=incident.pk) is False
    incident.refresh_from_db()
    assert incident.resolve_due_at == due == incident.due_at


def test_bad_deadline_is_refused_and_writes_nothing(city):
    with pytest.raises(ValidationFailed) as caught:
        report(city, resolve_by="tomorrow")
    assert "resolve_by" in caught.value.extra
    assert not Incident.objects.exists()
