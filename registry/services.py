"""Writes of the grid's basic data: in transaction.atomic, rows locked, a change-history row
(RecordChange) per write, a timeline event (KeyPersonEvent) per key-person state change, side
effects (alerts, SMS) on commit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ValidationFailed
from core.transactions import enqueue_on_commit
from grids.models import GridCell
from registry import personal_data
from registry.models import (
    Home,
    KeyPerson,
    KeyPersonEvent,
    KeyPersonKind,
    Person,
    RecordChange,
    Visit,
    VisitPlan,
)
from registry.policies import area_for

# Fields whose values never go into the change history in clear (only "changed").
SENSITIVE = {"id_number_value", "phone_value", "owner_phone_value", "contact_phone_value"}
SKIP = {"id", "created_at", "updated_at", "created_by", "updated_by", "id_key", "phone_key"}


def _denied() -> ValidationFailed:
    message = _("You may not change the records of this grid cell.")
    return ValidationFailed(message, extra={"cell": [message]})


def _snapshot(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in SKIP:
            continue
        value = getattr(obj, field.attname)
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        data[field.name] = value
    return data


def record_change(
    obj: Any,
    *,
    actor: User | None,
    action: str,
    before: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
) -> RecordChange | None:
    after = _snapshot(obj)
    changes: dict[str, Any] = {}
    for name, new in after.items():
        old = (before or {}).get(name)
        if before is not None and old == new:
            continue
        if before is None and new in ("", None, False, 0):
            continue
        if name in SENSITIVE:
            changes[name] = ["***", "***"] if before is not None else ["", "***"]
        else:
            changes[name] = [old, new]
    if extra:
        changes.update(extra)
    if before is not None and not changes:
        return None
    return RecordChange.objects.create(
        model=obj._meta.model_name,
        object_id=obj.pk,
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        at=timezone.now(),
        changes=changes,
    )


def _check_cell(actor: User | None, cell: GridCell) -> None:
    if actor is None or not area_for(actor).may_write(cell):
        raise _denied()


def basic_save(
    *,
    actor: User | None,
    instance: Any,
    data: dict[str, Any],
    cell: GridCell | None = None,
    tags: list | None = None,
    action: str = RecordChange.Action.UPDATED,
) -> Any:
    """Create or update a building, home, person, organisation or place. `data` holds model
    field values (for a person, `id_number` and `phone` in clear: they are encrypted here)."""
    with transaction.atomic():
        model: Any = type(instance)
        before = None
        if instance.pk:
            instance = model.objects.select_for_update().get(pk=instance.pk)
            before = _snapshot(instance)
            cell = instance.cell
            if "cell" in data and data["cell"] is not None:
                cell = data["cell"]
        if cell is None:
            raise ValidationFailed(
                _("Choose a grid cell."), extra={"cell": [_("Choose a grid cell.")]}
            )
        _check_cell(actor, cell)
        if before is not None:
            _check_cell(actor, instance.cell)
        data = dict(data)
        data.pop("cell", None)
        for name, value in data.items():
            setattr(instance, name, value)
        instance.cell = cell
        instance.region_code = cell.community.code
        _check_links(instance)
        if before is None:
            instance.created_by = actor
            action = RecordChange.Action.CREATED if action == "updated" else action
        instance.updated_by = actor
        _validate(instance)
        instance.save()
        if tags is not None and isinstance(instance, Person):
            old = sorted(instance.tags.values_list("code", flat=True)) if before else []
            instance.tags.set(tags)
            new = sorted(t.code for t in tags)
            extra = {"tags": [old, new]} if old != new else None
        else:
            extra = None
        record_change(instance, actor=actor, action=action, before=before, extra=extra)
        if isinstance(instance, Person) and before is not None and before["cell"] != cell.pk:
            KeyPerson.objects.filter(person=instance).update(
                cell=cell, region_code=cell.community.code
            )
        return instance


def _check_links(instance: Any) -> None:
    """A home, person, organisation or place links only to records of the same cell."""
    message = _("The linked record belongs to another grid cell.")
    for name in ("building", "home", "organisation"):
        if not hasattr(instance, f"{name}_id"):
            continue
        linked = getattr(instance, name)
        if linked is not None and linked.cell_id != instance.cell_id:
            raise ValidationFailed(message, extra={name: [message]})


def _validate(instance: Any) -> None:
    if isinstance(instance, Person):
        if instance.id_number and not personal_data.id_number_is_valid(instance.id_number):
            message = _("Enter a valid 18-digit resident ID number.")
            raise ValidationFailed(message, extra={"id_number": [message]})
        if instance.phone and not personal_data.phone_is_valid(instance.phone):
            message = _("Enter a mainland mobile number or a landline such as 0596-1234567.")
            raise ValidationFailed(message, extra={"phone": [message]})
        if instance.id_number:
            instance.birth_date = instance.birth_date or personal_data.birth_date_from_id(
                instance.id_number
            )
            instance.gender = instance.gender or personal_data.gender_from_id(instance.id_number)
            duplicate = Person.objects.filter(id_key=instance.id_key, active=True).exclude(
                pk=instance.pk
            )
            if instance.id_key and duplicate.exists():
                message = _("A person with this ID number is already registered.")
                raise ValidationFailed(message, extra={"id_number": [message]})
        if (
            instance.arrival_date
            and instance.expected_departure_date
            and instance.expected_departure_date < instance.arrival_date
        ):
            message = _("The expected departure cannot be before the arrival.")
            raise ValidationFailed(message, extra={"expected_departure_date": [message]})
    if (
        isinstance(instance, Home)
        and instance.occupancy != Home.Occupancy.RENTED
        and instance.tenant_count
    ):
        message = _("Only a rented home has tenants.")
        raise ValidationFailed(message, extra={"tenant_count": [message]})
    for name in ("lat", "lng"):
        if hasattr(instance, name):
            value = getattr(instance, name)
            limit = 90 if name == "lat" else 180
            if value is not None and not -limit <= value <= limit:
                message = _("Enter a valid location.")
                raise ValidationFailed(message, extra={name: [message]})
    if hasattr(instance, "lat") and (instance.lat is None) != (instance.lng is None):
        message = _("Enter both latitude and longitude, or neither.")
        raise ValidationFailed(message, extra={"lat": [message]})


def basic_deactivate(*, actor: User | None, instance: Any) -> Any:
    with transaction.atomic():
        model: Any = type(instance)
        instance = model.objects.select_for_update().get(pk=instance.pk)
        _check_cell(actor, instance.cell)
        before = _snapshot(instance)
        instance.active = False
        instance.updated_by = actor
        instance.save(update_fields=["active", "updated_by", "updated_at"])
        record_change(instance, actor=actor, action=RecordChange.Action.DEACTIVATED, before=before)
        return instance


# ---------------------------------------------------------------- key persons


def plan_for(kind: KeyPersonKind, risk_level: int) -> VisitPlan | None:
    plans = {plan.risk_level: plan for plan in kind.plans.all()}
    if risk_level in plans:
        return plans[risk_level]
    lower = [level for level in plans if level <= risk_level]
    return plans[max(lower)] if lower else None


def next_due(kind: KeyPersonKind, risk_level: int, since: date) -> date | None:
    plan = plan_for(kind, risk_level)
    return since + timedelta(days=plan.interval_days) if plan else None


def _event(kp: KeyPerson, kind: str, actor: User | None, **data: Any) -> KeyPersonEvent:
    return KeyPersonEvent.objects.create(
        key_person=kp,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        at=timezone.now(),
        data=data,
    )


def _check_level(kind: KeyPersonKind, level: int) -> None:
    if level < 0 or level > kind.max_risk_level:
        message = _("Choose a risk level between 0 and %(max)s.") % {"max": kind.max_risk_level}
        raise ValidationFailed(message, extra={"risk_level": [message]})


def key_person_create(
    *,
    actor: User | None,
    person: Person,
    kind: KeyPersonKind,
    risk_level: int,
    responsible_worker: User | None,
    notes: str = "",
) -> KeyPerson:
    with transaction.atomic():
        person = (
            Person.objects.select_for_update().select_related("cell__community").get(pk=person.pk)
        )
        _check_cell(actor, person.cell)
        _check_level(kind, risk_level)
        if KeyPerson.objects.filter(person=person, kind=kind, status="active").exists():
            message = _("This person is already followed as this kind of key person.")
            raise ValidationFailed(message, extra={"kind": [message]})
        today = timezone.localdate()
        kp = KeyPerson.objects.create(
            person=person,
            kind=kind,
            cell=person.cell,
            region_code=person.region_code,
            risk_level=risk_level,
            responsible_worker=responsible_worker,
            since=today,
            next_visit_due=next_due(kind, risk_level, today),
            notes=notes,
            created_by=actor,
        )
        _event(kp, KeyPersonEvent.Kind.CREATED, actor, risk_level=risk_level)
        record_change(kp, actor=actor, action=RecordChange.Action.CREATED, before=None)
        return kp


def key_person_close(*, actor: User | None, key_person: KeyPerson, reason: str) -> KeyPerson:
    with transaction.atomic():
        kp = KeyPerson.objects.select_for_update().get(pk=key_person.pk)
        if kp.status != KeyPerson.Status.ACTIVE:
            raise ValidationFailed(_("This key person is no longer followed."))
        before = _snapshot(kp)
        kp.status = KeyPerson.Status.CLOSED
        kp.next_visit_due = None
        kp.save(update_fields=["status", "next_visit_due", "updated_at"])
        _event(kp, KeyPersonEvent.Kind.CLOSED, actor, reason=reason[:200])
        record_change(kp, actor=actor, action=RecordChange.Action.UPDATED, before=before)
        return kp


def visit_log(
    *,
    actor: User,
    key_person: KeyPerson,
    observations: str,
    risk_after: int,
    visited_at: datetime | None = None,
    method: str = Visit.Method.IN_PERSON,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    place: str = "",
    photo: Any = None,
) -> Visit:
    """Log a visit: the risk level re-assessed, the next due date from the plan of the new
    level; a raised level alerts the community's designated staff and the cell's police
    officer (registry.tasks.alert_risk_raised, on commit)."""
    observations = (observations or "").strip()
    if not observations:
        message = _("Describe what was seen.")
        raise ValidationFailed(message, extra={"observations": [message]})
    if (lat is None) != (lng is None) or (
        lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)  # type: ignore[operator]
    ):
        message = _("Enter a valid location.")
        raise ValidationFailed(message, extra={"lat": [message]})
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + timedelta(minutes=5):
        message = _("A visit cannot be in the future.")
        raise ValidationFailed(message, extra={"visited_at": [message]})
    with transaction.atomic():
        kp = (
            KeyPerson.objects.select_for_update()
            .select_related("kind", "cell")
            .get(pk=key_person.pk)
        )
        if kp.status != KeyPerson.Status.ACTIVE:
            raise ValidationFailed(_("This key person is no longer followed."))
        _check_level(kp.kind, risk_after)
        visit = Visit(
            key_person=kp,
            visitor=actor,
            visited_at=visited_at,
            method=method,
            lat=lat,
            lng=lng,
            accuracy_m=accuracy_m,
            place=place[:200],
            observations=observations,
            risk_before=kp.risk_level,
            risk_after=risk_after,
        )
        if photo:
            visit.photo = photo
        visit.save()
        before_level = kp.risk_level
        if kp.last_visit_at is None or visited_at >= kp.last_visit_at:
            kp.last_visit_at = visited_at
        kp.risk_level = risk_after
        kp.next_visit_due = next_due(kp.kind, risk_after, timezone.localdate(kp.last_visit_at))
        kp.warned_for = None
        kp.escalated_for = None
        kp.escalation_level = 0
        kp.save()
        _event(kp, KeyPersonEvent.Kind.VISITED, actor, visit=visit.pk)
        if risk_after != before_level:
            _event(
                kp,
                KeyPersonEvent.Kind.RISK_CHANGED,
                actor,
                before=before_level,
                after=risk_after,
                visit=visit.pk,
            )
        if risk_after > before_level:
            from registry import tasks

            enqueue_on_commit(tasks.alert_risk_raised, visit.pk)
        return visit


def alert_recipients(kp: KeyPerson) -> list[User]:
    """Who hears of a raised risk level: the community's designated staff (for all kinds or
    this kind) and the cell's police officer when police are granted the kind."""
    from registry.models import DesignatedStaff, KeyPersonGrant

    users = {
        d.user
        for d in DesignatedStaff.objects.filter(
            community__code=kp.region_code, user__is_active=True
        )
        .filter(models.Q(kind__isnull=True) | models.Q(kind=kp.kind))
        .select_related("user")
    }
    officer = kp.cell.police_officer
    if (
        officer is not None
        and officer.is_active
        and KeyPersonGrant.objects.filter(kind=kp.kind, role="police_officer").exists()
    ):
        users.add(officer)
    return sorted(users, key=lambda u: u.pk)


def alert_risk_raised(visit_id: int) -> int:
    """In-app notice and SMS (no name, no details: only that a key person of the cell needs
    attention) to the alert recipients. Idempotent (dedupe keys per visit)."""
    from django.urls import reverse

    from core.services import notification_send, sms_queue

    visit = (
        Visit.objects.select_related("key_person__kind", "key_person__cell__police_officer")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None or visit.risk_after <= visit.risk_before:
        return 0
    kp = visit.key_person
    recipients = alert_recipients(kp)
    title = _(
        "Key person's risk level raised: %(kind)s, %(cell)s, level %(before)s → %(after)s"
    ) % {
        "kind": kp.kind.name,
        "cell": kp.cell.name,
        "before": visit.risk_before,
        "after": visit.risk_after,
    }
    with transaction.atomic():
        sent = notification_send(
            user_ids=[u.pk for u in recipients],
            title=title,
            url=reverse("registry:key_person_detail", args=[kp.pk]),
            dedupe_key=f"registry:risk:{visit.pk}",
        )
        text = _(
            "GridGov: a key person in %(cell)s needs attention (risk level %(after)s). "
            "Please check the platform."
        ) % {
            "cell": kp.cell.name,
            "after": visit.risk_after,
        }
        for user in recipients:
            if user.phone:
                sms_queue(
                    phone=user.phone, text=text, dedupe_key=f"registry:risk:{visit.pk}:{user.pk}"
                )
    return sent
