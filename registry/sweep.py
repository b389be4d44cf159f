"""The visit sweep: remind the responsible worker before a visit falls due, escalate overdue
visits (like incidents: one level at a time — the community's designated staff when the visit
is overdue, the street's supervisors and dispatchers a week later). Each step is claimed by a
conditional UPDATE (warned_for / escalated_for / escalation_level), so two sweeps running at
once, or a sweep run twice, send it once."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core.services import notification_send
from registry.models import DesignatedStaff, KeyPerson, KeyPersonEvent
from registry.services import plan_for

SECOND_ESCALATION_AFTER_DAYS = 7


def _street_staff(kp: KeyPerson) -> list[int]:
    street_prefix = kp.region_code[:9]
    return list(
        User.objects.filter(
            is_active=True,
            roles__code__in=[RoleCode.SUPERVISOR, RoleCode.DISPATCHER],
            scope_region__code=street_prefix + "000",
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def _designated(kp: KeyPerson) -> list[int]:
    return list(
        DesignatedStaff.objects.filter(community__code=kp.region_code, user__is_active=True)
        .filter(Q(kind__isnull=True) | Q(kind_id=kp.kind_id))
        .values_list("user_id", flat=True)
    )


def visits_sweep(today=None) -> dict[str, int]:
    today = today or timezone.localdate()
    counts = {"reminded": 0, "escalated": 0}
    active = KeyPerson.objects.filter(status=KeyPerson.Status.ACTIVE, next_visit_due__isnull=False)
    # Reminders: due within the plan's warning window, not yet reminded for this due date.
    horizon = today + timedelta(days=31)
    for kp in active.filter(next_visit_due__gte=today, next_visit_due__lte=horizon).select_related(
        "kind", "cell"
    ):
        plan = plan_for(kp.kind, kp.risk_level)
        warn = plan.warn_days_before if plan else 3
        if kp.next_visit_due > today + timedelta(days=warn) or kp.warned_for == kp.next_visit_due:
            continue
        with transaction.atomic():
            claimed = (
                KeyPerson.objects.filter(pk=kp.pk, next_visit_due=kp.next_visit_due)
                .exclude(warned_for=kp.next_visit_due)
                .update(warned_for=kp.next_visit_due)
            )
            if not claimed:
                continue
            KeyPersonEvent.objects.create(
                key_person=kp,
                kind=KeyPersonEvent.Kind.REMINDED,
                at=timezone.now(),
                data={"due": kp.next_visit_due.isoformat()},
            )
            notification_send(
                user_ids=[kp.responsible_worker_id],
                title=_("Key-person visit due on %(date)s (%(cell)s)")
                % {"date": kp.next_visit_due.isoformat(), "cell": kp.cell.name},
                url=reverse("registry:key_person_detail", args=[kp.pk]),
                dedupe_key=f"registry:due:{kp.pk}:{kp.next_visit_due.isoformat()}",
            )
            counts["reminded"] += 1
    # Escalations: overdue.
    for kp in active.filter(next_visit_due__lt=today).select_related("kind", "cell"):
        overdue_days = (today - kp.next_visit_due).days
        target_level = 2 if overdue_days >= SECOND_ESCALATION_AFTER_DAYS else 1
        if kp.escalated_for == kp.next_visit_due and kp.escalation_level >= target_level:
            continue
        with transaction.atomic():
            claimed = (
                KeyPerson.objects.filter(pk=kp.pk, next_visit_due=kp.next_visit_due)
                .filter(
                    Q(escalated_for__isnull=True)
                    | ~Q(escalated_for=kp.next_visit_due)
                    | Q(escalation_level__lt=target_level)
                )
                .update(escalated_for=kp.next_visit_due, escalation_level=target_level)
            )
            if not claimed:
                continue
            KeyPersonEvent.objects.create(
                key_person=kp,
                kind=KeyPersonEvent.Kind.ESCALATED,
                at=timezone.now(),
                data={"due": kp.next_visit_due.isoformat(), "level": target_level},
            )
            recipients = [kp.responsible_worker_id, *_designated(kp)]
            if target_level >= 2:
                recipients += _street_staff(kp)
            notification_send(
                user_ids=recipients,
                title=_("Key-person visit overdue since %(date)s (%(cell)s)")
                % {"date": kp.next_visit_due.isoformat(), "cell": kp.cell.name},
                url=reverse("registry:key_person_detail", args=[kp.pk]),
                dedupe_key=f"registry:overdue:{kp.pk}:{kp.next_visit_due.isoformat()}:{target_level}",
            )
            counts["escalated"] += 1
    return counts
