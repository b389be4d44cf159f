"""Every non-trivial read of petitions, already scoped to the user.

Petition officers, supervisors and admins see the petitions of their region (where the matter
arose, or the unit now handling it); everybody else sees only their own (petitions are not
shown to other staff: accusations must not reach the accused, Art. 30).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from audit.services import record_out_of_scope
from core.exceptions import NotFoundError
from core.masking import mask_name
from petitions import personal_data
from petitions.models import (
    HANDLING_STATES,
    OPEN_STATES,
    SATISFIED_VALUES,
    OpinionKind,
    Petition,
    PetitionCategory,
    PetitionChannel,
    PetitionKind,
    PetitionLevel,
    PetitionState,
)
from petitions.policies import (
    can_answer,
    can_see_id_number,
    can_see_phone,
    closable,
    covers,
    is_officer,
    is_supervisor,
)

S = PetitionState
PETITION_STAFF_ROLES = {RoleCode.PETITION_OFFICER, RoleCode.SUPERVISOR}


def is_petition_staff(user: User) -> bool:
    return bool(
        user.is_authenticated and (user.is_portal_admin or user.role_codes & PETITION_STAFF_ROLES)
    )


def petitions_visible(*, user: User) -> QuerySet[Petition]:
    qs = Petition.objects.select_related("category", "region", "handling_region")
    if user is None or not user.is_authenticated:
        return qs.none()
    if is_petition_staff(user):
        scope = user_scope(user)
        if scope.everything:
            return qs
        if scope.prefix is not None:
            return qs.filter(
                Q(region_code__startswith=scope.prefix)
                | Q(handling_region_code__startswith=scope.prefix)
            )
    return qs.filter(owner=user)


def petition_get_for_user(*, user: User, petition_id: int) -> Petition:
    petition = petitions_visible(user=user).filter(pk=petition_id).first()
    if petition is None:
        record_out_of_scope(user, Petition, petition_id)
        raise NotFoundError("Petition not found.")
    return petition


def petitions_overdue(*, user: User) -> QuerySet[Petition]:
    """Open petitions past their current deadline (flagged by the sweep, or just now due)."""
    now = timezone.now()
    return (
        petitions_visible(user=user)
        .filter(state__in=OPEN_STATES)
        .filter(Q(overdue=True) | Q(due_at__lt=now))
        .order_by("due_at")
    )


def petition_track(*, tracking_number: str, phone_last4: str = "", user: User | None = None):
    """Public tracking (Art. 21): by tracking number plus the last 4 digits of a petitioner's
    phone, or the number alone for the signed-in owner. None when nothing matches."""
    number = (tracking_number or "").strip().upper()
    if not number:
        return None
    petition = (
        Petition.objects.select_related("merged_into", "category")
        .filter(tracking_number=number)
        .first()
    )
    if petition is None:
        return None
    if user is not None and user.is_authenticated and petition.owner_id == user.pk:
        return petition
    last4 = (phone_last4 or "").strip()
    if len(last4) != 4 or not last4.isdigit():
        return None
    if any(p.phone.endswith(last4) for p in petition.petitioners.all() if p.phone):
        return petition
    return None


@dataclass
class PetitionerView:
    name: str
    id_number: str
    phone: str
    address: str
    is_representative: bool


def petitioners_for_viewer(*, petition: Petition, viewer: User | None) -> list[PetitionerView]:
    """The petitioners as `viewer` may see them: ID numbers in full only for petition officers
    in scope, phones for the owner and contact-seeing roles in scope; masked otherwise."""
    show_id = can_see_id_number(viewer, petition)
    show_phone = can_see_phone(viewer, petition)
    personal_data.audit_unmasked(
        viewer,
        petition,
        show_id=show_id,
        show_phone=show_phone and petition.owner_id != getattr(viewer, "pk", None),
    )
    return [
        PetitionerView(
            name=p.name,
            id_number=p.id_number if show_id else p.masked_id_number,
            phone=p.phone if show_phone else p.masked_phone,
            address=p.address,
            is_representative=p.is_representative,
        )
        for p in petition.petitioners.all()
    ]


def petitioner_names_masked(petition: Petition) -> str:
    return "、".join(mask_name(p.name) for p in petition.petitioners.all())


def petition_timeline(*, petition: Petition, viewer: User) -> QuerySet:
    events = petition.events.select_related("actor")
    if is_petition_staff(viewer) and covers(viewer, petition):
        return events
    return events.filter(public=True)


def merge_suggestions_for(*, petition: Petition, viewer: User) -> list:
    """The pending possible repeats of `petition` ("possible repeat of XF…", H1): only for
    petition officers covering it, and only those whose earlier petition they cover too. The
    filer and everybody else get an empty list."""
    if not (is_officer(viewer) and covers(viewer, petition)):
        return []
    suggestions = petition.merge_suggestions.filter(decision="").select_related(
        "candidate", "candidate__category"
    )
    return [s for s in suggestions if covers(viewer, s.candidate)]


# Actions a viewer may take now; pages and the API offer exactly these.
def petition_actions(*, petition: Petition, user: User) -> list[str]:
    actions: list[str] = []
    now = timezone.now()
    state = petition.state
    officer = is_officer(user) and covers(user, petition)
    owner = petition.owner_id is not None and petition.owner_id == user.pk
    receiving = officer and user_scope(user).covers_code(petition.handling_region_code)
    if officer:
        if state == S.RECEIVED:
            actions += ["accept", "transfer", "decline"]
        if state == S.TRANSFERRED and receiving:
            actions.append("accept")
            if petition.objection_due_at is None or now <= petition.objection_due_at:
                actions.append("object")
        if state == S.ACCEPTED:
            actions.append("start")
        if state in HANDLING_STATES:
            actions.append("reply")
            if (
                state != S.EXTENDED
                and not petition.extension_days
                and not petition.extension_requested_at
                and (petition.reply_due_at is None or now <= petition.reply_due_at)
            ):
                actions.append("extension_request")
            if petition.mediation_requested_at is None:
                actions.append("refer_mediation")
            if petition.incident_id is None:
                actions.append("to_incident")
        if state == S.REVIEW_REQUESTED and can_answer(user, petition, OpinionKind.REVIEW):
            actions.append("review")
        if state == S.REEXAM_REQUESTED and can_answer(user, petition, OpinionKind.REEXAMINATION):
            actions += ["hearing", "reexamine"]
        if petition.opinions.filter(delivered_at__isnull=True).exists():
            actions.append("delivery")
        if merge_suggestions_for(petition=petition, viewer=user):
            actions += ["merge_confirm", "merge_dismiss"]
        if state == S.MERGED and petition.merge_records.filter(undone_at__isnull=True).exists():
            actions.append("undo_merge")
        if state in (S.REPLIED, S.REVIEWED, S.REEXAMINED) and closable(petition, now):
            actions.append("close")
    if (
        is_supervisor(user)
        and covers(user, petition)
        and petition.extension_requested_at
        and not petition.extension_days
    ):
        actions.append("extension_decide")
    if owner and petition.can_rate and state != S.MERGED:
        actions.append("rate")
    if owner or officer:
        if state == S.REPLIED and (
            petition.review_request_due_at is None or now <= petition.review_request_due_at
        ):
            actions.append("review_request")
        if state == S.REVIEWED and (
            petition.reexam_request_due_at is None or now <= petition.reexam_request_due_at
        ):
            actions.append("reexam_request")
    return actions


# ---------------------------------------------------------------------------------------------
# Analysis ("structured analysis"): counts, repeats, backlog and the KPIs of RULES.md.


def _rate(numerator: int, denominator: int) -> dict:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": round(numerator / denominator, 4) if denominator else None,
        "percent": round(100 * numerator / denominator, 1) if denominator else None,
    }


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def petitions_for_analysis(
    *, user: User, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Petition]:
    """The cases counted: visible, received in the period, merged submissions left out (they
    count as repeats of the petition they joined)."""
    qs = petitions_visible(user=user).exclude(state=S.MERGED)
    if date_from:
        qs = qs.filter(received_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(received_at__lt=_day_start(date_to) + timedelta(days=1))
    return qs


def _labelled_counts(qs: QuerySet, field: str, choices) -> list[dict]:
    labels = dict(choices)
    rows = qs.values(field).annotate(count=Count("id")).order_by("-count", field)
    return [
        {"key": row[field], "label": str(labels.get(row[field], row[field])), "count": row["count"]}
        for row in rows
    ]


def petition_kpis(*, qs: QuerySet[Petition], now: datetime | None = None) -> dict[str, dict]:
    """The KPIs with their numerator and denominator (formulas: docs/petitions.md).

    - timely_acceptance (及时受理率) = told within 15 days / received whose telling is due
      (told already, or the 15 days have passed);
    - on_time_completion (按期办结率) = replied by the deadline / accepted petitions due
      (replied already, or the reply deadline has passed);
    - satisfaction (满意率) = satisfied or basically satisfied / rated;
    - settled (息诉息访率) = replied and not raised again after the reply (no review request, no
      new or merged submission of the same matter) / replied;
    - backlog_resolution (积案化解率) = backlog petitions closed / backlog petitions;
    - local_share: matters arising at village/community or township/street level / all.
    """
    now = now or timezone.now()
    received_due = qs.filter(
        Q(told_at__isnull=False) | Q(accept_due_at__lt=now) | Q(state=S.NOT_TAKEN)
    )
    timely = received_due.filter(told_on_time=True).count()
    reply_due = qs.filter(accepted_at__isnull=False).filter(
        Q(replied_at__isnull=False) | Q(reply_due_at__lt=now)
    )
    on_time = reply_due.filter(replied_on_time=True).count()
    rated = qs.exclude(satisfaction="")
    satisfied = rated.filter(satisfaction__in=SATISFIED_VALUES).count()
    replied = qs.filter(replied_at__isnull=False)
    settled = replied.filter(raised_again_after_reply=False).count()
    backlog = qs.filter(backlog=True)
    resolved = backlog.filter(backlog_resolved_at__isnull=False).count()
    total = qs.count()
    local = qs.filter(level__in=[PetitionLevel.VILLAGE, PetitionLevel.TOWNSHIP]).count()
    return {
        "timely_acceptance": _rate(timely, received_due.count()),
        "on_time_completion": _rate(on_time, reply_due.count()),
        "satisfaction": _rate(satisfied, rated.count()),
        "settled": _rate(settled, replied.count()),
        "backlog_resolution": _rate(resolved, backlog.count()),
        "local_share": _rate(local, total),
    }


def petition_analysis(
    *, user: User, date_from: date | None = None, date_to: date | None = None
) -> dict:
    qs = petitions_for_analysis(user=user, date_from=date_from, date_to=date_to)
    categories = dict(PetitionCategory.objects.values_list("pk", "name"))
    by_category = [
        {
            "key": row["category"],
            "label": categories.get(row["category"], ""),
            "count": row["count"],
        }
        for row in qs.values("category").annotate(count=Count("id")).order_by("-count")
    ]
    by_region = [
        {"key": row["region__code"], "label": row["region__name"], "count": row["count"]}
        for row in qs.values("region__code", "region__name")
        .annotate(count=Count("id"))
        .order_by("-count", "region__code")
    ]
    by_month = [
        {
            "key": row["month"].strftime("%Y-%m") if row["month"] else "",
            "label": row["month"].strftime("%Y-%m") if row["month"] else "",
            "count": row["count"],
        }
        for row in qs.annotate(month=TruncMonth("received_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    ]
    repeated = qs.filter(repeat_count__gt=0)
    backlog = qs.filter(backlog=True)
    return {
        "total": qs.count(),
        "open": qs.filter(state__in=OPEN_STATES).count(),
        "by_category": by_category,
        "by_kind": _labelled_counts(qs, "kind", PetitionKind.choices),
        "by_channel": _labelled_counts(qs, "channel", PetitionChannel.choices),
        "by_region": by_region,
        "by_level": _labelled_counts(qs, "level", PetitionLevel.choices),
        "by_state": _labelled_counts(qs, "state", PetitionState.choices),
        "by_month": by_month,
        "repeated": {
            "petitions": repeated.count(),
            "submissions_merged": sum(repeated.values_list("repeat_count", flat=True)),
        },
        "backlog": {
            "total": backlog.count(),
            "resolved": backlog.filter(backlog_resolved_at__isnull=False).count(),
            "open": backlog.filter(state__in=OPEN_STATES).count(),
        },
        "kpis": petition_kpis(qs=qs),
    }


def petitions_linked_to_incident(*, user: User, incident_id: int) -> QuerySet[Petition]:
    """Petitions turned into `incident_id`, as `user` may see them (for the incident's page)."""
    return petitions_visible(user=user).filter(incident_id=incident_id)
