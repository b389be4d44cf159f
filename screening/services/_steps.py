"""The steps every screening service shares: lock and check (visibility, role, state),
move and record the timeline row, the colour policies, who is told and the red/orange alert."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import (
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.masking import mask_text
from core.services import Notice, notifications_send_many, sms_queue
from core.workflow import check, lock, move, record
from grids.models import GridCell
from screening import policies, selectors
from screening.models import (
    ALERT_LEVELS,
    GRAPH,
    OPEN_STATES,
    Dispute,
    DisputeAction,
    DisputeEvent,
    LevelPolicy,
    RiskFactor,
    RiskLevel,
)

A = DisputeAction
MAX_PARTIES = 20
# Fallbacks when an admin deleted a colour's policy row.
DEFAULT_FOLLOW_UP_DAYS = {"red": 1, "orange": 3, "yellow": 7, "blue": 15}
DEFAULT_VISIT_DAYS = 15


def _now() -> datetime:
    return timezone.now()


def _url(dispute: Dispute) -> str:
    return reverse("screening:detail", args=[dispute.pk])


def _level_label(level: str) -> str:
    return str(RiskLevel(level).label)


def _policy(level: str) -> LevelPolicy:
    policy = LevelPolicy.objects.filter(level=level).first()
    if policy is None:
        return LevelPolicy(
            level=level,
            follow_up_days=DEFAULT_FOLLOW_UP_DAYS[level],
            alerts=level in ALERT_LEVELS,
            visit_days=DEFAULT_VISIT_DAYS,
        )
    return policy


def _required(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, extra={field: [message]})
    return value


def _event(
    dispute: Dispute,
    *,
    actor: User | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict | None = None,
) -> DisputeEvent:
    """One timeline row; a move passes from_state (to_state defaults to the state now)."""
    return record(
        DisputeEvent,
        dispute,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state or (dispute.state if from_state else ""),
        note=note,
        data=data,
        created_at=_now(),
    )


def _load(actor: User, dispute_id: int, action: str) -> Dispute:
    """Lock the dispute, then check it is visible to the actor, the role may do `action`, and
    the state allows it (in that order: a hidden dispute is a 404 whatever the state)."""
    dispute = lock(Dispute, dispute_id, not_found=NotFoundError(_("Dispute not found.")))
    if not selectors.disputes_visible(actor).filter(pk=dispute.pk).exists():
        raise NotFoundError(_("Dispute not found."))
    if not policies.may_act(actor, action):
        raise PermissionDeniedError(_("Your role may not do that with a dispute."))
    check(dispute, GRAPH, action)
    return dispute


def _next_due(dispute: Dispute, now: datetime) -> datetime:
    return now + timedelta(days=_policy(dispute.level).follow_up_days)


# --- who is told ---------------------------------------------------------------------------


def _users_with(roles: Iterable[str], **filters) -> set[int]:
    return set(
        User.objects.filter(is_active=True, roles__code__in=list(roles), **filters)
        .distinct()
        .values_list("pk", flat=True)
    )


def _police_officer_ids(dispute: Dispute) -> set[int]:
    """The paired officer of the dispute's cell; without a cell, those of the community's cells."""
    if dispute.grid_cell_id is not None:
        cells = GridCell.objects.filter(pk=dispute.grid_cell_id)
    else:
        cells = GridCell.objects.filter(community_id=dispute.region_id)
    return {pk for pk in cells.values_list("police_officer_id", flat=True) if pk}


def alert_recipient_ids(dispute: Dispute) -> set[int]:
    """The community's staff, the street's 综治 staff (dispatchers and supervisors scoped to the
    street) and the cell's paired police officer."""
    ids = _users_with(policies.COMMUNITY_ALERT_ROLES, scope_region_id=dispute.region_id)
    if dispute.grid_cell_id is not None:
        ids |= set(
            User.objects.filter(
                is_active=True, grid_worker__cells=dispute.grid_cell_id
            ).values_list("pk", flat=True)
        )
    if dispute.region.parent_id is not None:
        ids |= _users_with(policies.STREET_ALERT_ROLES, scope_region_id=dispute.region.parent_id)
    ids |= _police_officer_ids(dispute)
    return ids


def _alert(dispute: Dispute, *, actor: User | None) -> int:
    """Tell the community, the street and the police of a red or orange dispute, in the inbox and
    by SMS, once per dispute and colour (dedupe keys). Returns how many were told."""
    if dispute.level not in ALERT_LEVELS or not _policy(dispute.level).alerts:
        return 0
    recipients = alert_recipient_ids(dispute)
    key = f"screening:{dispute.pk}:alert:{dispute.level}"
    title = _("%(level)s dispute warning: %(number)s") % {
        "level": _level_label(dispute.level),
        "number": dispute.number,
    }
    body = _("%(kind)s in %(community)s, %(place)s. Follow up within %(days)s days.") % {
        "kind": dispute.kind.display_name,
        "community": dispute.region.name,
        "place": mask_text(dispute.place),
        "days": _policy(dispute.level).follow_up_days,
    }
    notifications_send_many(
        Notice(user_id=pk, title=title, body=body, url=_url(dispute), dedupe_key=key)
        for pk in sorted(recipients)
    )
    phones = User.objects.filter(pk__in=recipients).exclude(phone__isnull=True)
    for pk, phone in phones.values_list("pk", "phone"):
        if phone:
            sms_queue(
                phone=phone,
                text=_("[GridGov] %(title)s (%(kind)s, %(community)s). Please follow up.")
                % {
                    "title": title,
                    "kind": dispute.kind.display_name,
                    "community": dispute.region.name,
                },
                dedupe_key=f"{key}:{pk}",
            )
    _event(
        dispute,
        actor=actor,
        action=A.ALERT,
        data={"level": dispute.level, "recipients": len(recipients)},
    )
    return len(recipients)


def _save_move(
    dispute: Dispute,
    *,
    actor: User,
    action: str,
    target: str | None = None,
    note: str = "",
    data: dict | None = None,
    fields: Sequence[str] = (),
    reset_due: bool = True,
) -> Dispute:
    now = _now()
    previous = move(dispute, GRAPH, action, target)
    update = ["state", "updated_at", *fields]
    if reset_due and dispute.state in OPEN_STATES:
        dispute.follow_up_due_at = _next_due(dispute, now)
        dispute.overdue = False
        update += ["follow_up_due_at", "overdue"]
    dispute.save(update_fields=sorted(set(update)))
    _event(dispute, actor=actor, action=action, from_state=previous, note=note, data=data)
    return dispute


def _factors(codes: Iterable[str]) -> list[RiskFactor]:
    codes = {str(c) for c in codes if c}
    found = list(RiskFactor.objects.filter(code__in=codes, active=True))
    unknown = codes - {f.code for f in found}
    if unknown:
        message = _("Unknown risk factor: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
        raise ValidationFailed(message, extra={"factors": [message]})
    return found
