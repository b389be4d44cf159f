"""Every non-trivial read of resident services, already scoped to the user who asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import user_scope
from core.exceptions import NotFoundError
from core.resident_items import ResidentItem
from grids.models import Region
from resident_services import policies
from resident_services.models import (
    FINAL_STATES,
    SATISFIED_MIN,
    BookingState,
    ConsultationBooking,
    ConsultationHours,
    RequestState,
    ServiceGroup,
    ServiceItem,
    ServicePolicy,
    ServiceRequest,
)
from resident_services.services import Slot, slot_times

S = RequestState


def catalogue() -> list[tuple[ServiceGroup, list[ServiceItem]]]:
    """The active groups with their active items (public: no personal data)."""
    items = ServiceItem.objects.filter(active=True, group__active=True).select_related("group")
    groups: dict[int, tuple[ServiceGroup, list[ServiceItem]]] = {}
    for item in items:
        groups.setdefault(item.group_id, (item.group, []))[1].append(item)
    return sorted(groups.values(), key=lambda pair: (pair[0].order, pair[0].code))


def item_get(item_id: int) -> ServiceItem:
    item = ServiceItem.objects.filter(pk=item_id, active=True).select_related("group").first()
    if item is None:
        raise NotFoundError(_("Service not found."))
    return item


def _requests() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related("item", "community", "resident", "handled_by")


def requests_visible(user: User) -> QuerySet[ServiceRequest]:
    """Residents: their own; handlers: their region's items of their kind; supervisors:
    their region's; admins: all."""
    if not user.is_authenticated:
        return ServiceRequest.objects.none()
    if user.is_portal_admin:
        return _requests()
    condition = Q(resident=user)
    prefix = policies.handler_prefix(user)
    if prefix:
        handled = Q(region_code__startswith=prefix)
        kind = policies.provider_kind(user)
        if kind is not None:
            handled &= Q(item__handler_kind=kind)
        condition |= handled
    if policies.is_supervisor(user):
        scope = user_scope(user)
        if scope.prefix:
            condition |= Q(region_code__startswith=scope.prefix)
    return _requests().filter(condition)


def request_get_for_user(*, user: User, request_id: int) -> ServiceRequest:
    request = requests_visible(user).filter(pk=request_id).first()
    if request is None:
        raise NotFoundError(_("Service request not found."))
    return request


def requests_of_resident(user: User) -> QuerySet[ServiceRequest]:
    if not user.is_authenticated:
        return ServiceRequest.objects.none()
    return _requests().filter(resident=user)


def handler_queue(user: User, *, include_closed: bool = False) -> QuerySet[ServiceRequest]:
    """A handler's queue: the requests they handle, the nearest deadline first; those waiting
    for materials (their clock stands still) after the rest."""
    prefix = policies.handler_prefix(user)
    if prefix is None and not user.is_portal_admin:
        return ServiceRequest.objects.none()
    qs = _requests()
    if prefix is not None and not user.is_portal_admin:
        qs = qs.filter(region_code__startswith=prefix)
        kind = policies.provider_kind(user)
        if kind is not None:
            qs = qs.filter(item__handler_kind=kind)
    if not include_closed:
        qs = qs.exclude(state__in=FINAL_STATES)
    # A running clock (paused_at NULL) first, on SQLite and PostgreSQL alike.
    return qs.order_by(F("paused_at").asc(nulls_first=True), "due_at", "id")


def events_for(*, user: User, request: ServiceRequest):
    """The timeline: every event for staff, the public ones for the resident."""
    qs = request.events.select_related("actor")
    if request.resident_id == user.pk and not policies.handles(user, request):
        qs = qs.filter(public=True)
    return qs


# --- consultations --------------------------------------------------------------------------


def hours_of_provider(user: User) -> QuerySet[ConsultationHours]:
    return ConsultationHours.objects.filter(provider=user).select_related("community")


def consultation_communities() -> QuerySet[Region]:
    """Communities where some consultation hours are offered."""
    return Region.objects.filter(
        level=Region.Level.COMMUNITY, consultation_hours__active=True
    ).distinct()


def free_slots(
    *, community: Region | None, now: datetime | None = None, days: int | None = None
) -> list[Slot]:
    """The slots of the next `days` days (ServicePolicy.booking_days_ahead) in a community,
    free or taken (the page shows both; only free ones can be booked)."""
    if community is None:
        return []
    now = now or timezone.now()
    days = days if days is not None else ServicePolicy.current().booking_days_ahead
    hours_list = list(
        ConsultationHours.objects.filter(community=community, active=True).select_related(
            "provider", "provider__service_provider"
        )
    )
    if not hours_list:
        return []
    today = timezone.localtime(now).date()
    taken = set(
        ConsultationBooking.objects.filter(
            provider_id__in=[h.provider_id for h in hours_list],
            state=BookingState.BOOKED,
            starts_at__gte=now,
        ).values_list("provider_id", "starts_at")
    )
    slots = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        for hours in hours_list:
            profile = getattr(hours.provider, "service_provider", None)
            for start, end in slot_times(hours, day):
                if start <= now:
                    continue
                slots.append(
                    Slot(
                        hours_id=hours.pk,
                        provider_id=hours.provider_id,
                        provider_name=(
                            profile.title if profile and profile.title else str(hours.provider)
                        ),
                        kind=profile.get_kind_display() if profile else "",
                        community_id=community.pk,
                        place=hours.place,
                        starts_at=start,
                        ends_at=end,
                        free=(hours.provider_id, start) not in taken,
                    )
                )
    slots.sort(key=lambda slot: (slot.starts_at, slot.provider_id))
    return slots


def bookings_of_resident(user: User) -> QuerySet[ConsultationBooking]:
    if not user.is_authenticated:
        return ConsultationBooking.objects.none()
    return ConsultationBooking.objects.filter(resident=user).select_related(
        "community", "provider", "hours"
    )


def bookings_of_provider(user: User) -> QuerySet[ConsultationBooking]:
    """The provider's own bookings (residents' names shown, phones masked in the page)."""
    if not user.is_authenticated:
        return ConsultationBooking.objects.none()
    return ConsultationBooking.objects.filter(
        provider=user, state=BookingState.BOOKED, starts_at__gte=timezone.now() - timedelta(hours=2)
    ).select_related("community", "resident")


# --- 我的 -----------------------------------------------------------------------------------------


def items_for_resident(user: User) -> list[ResidentItem]:
    """The resident's service requests and live bookings, for 我的 (residents app)."""
    if not user.is_authenticated:
        return []
    items = []
    kind = _("My service requests")
    for request in requests_of_resident(user).annotate(last_event_at=Max("events__created_at")):
        next_step, action_url = "", ""
        url = reverse("resident_services:request_detail", args=[request.pk])
        if request.state == S.AWAITING_MATERIALS:
            next_step = _("Supply the missing materials")
            action_url = url + "#supply"
        elif request.state in FINAL_STATES and request.rated_at is None:
            next_step = _("Rate the service")
            action_url = url + "#rate"
        elif request.state in (S.SUBMITTED, S.ACCEPTED) and request.due_at:
            next_step = _("Due %(date)s") % {
                "date": timezone.localtime(request.due_at).strftime("%Y-%m-%d")
            }
        items.append(
            ResidentItem(
                kind=kind,
                title=f"{request.item.name} · {request.community.name}",
                state=str(request.get_state_display()),
                url=url,
                updated_at=request.last_event_at or request.submitted_at,
                next_step=str(next_step),
                action_url=action_url,
            )
        )
    booking_kind = _("My consultation bookings")
    for booking in bookings_of_resident(user).filter(
        state=BookingState.BOOKED, starts_at__gte=timezone.now()
    ):
        items.append(
            ResidentItem(
                kind=booking_kind,
                title=_("Consultation %(time)s · %(community)s")
                % {
                    "time": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M"),
                    "community": booking.community.name,
                },
                state=str(booking.get_state_display()),
                url=reverse("resident_services:consultation_mine"),
                updated_at=booking.created_at,
            )
        )
    return items


# --- supervision ----------------------------------------------------------------------------------


@dataclass
class Figures:
    code: str
    name: str
    level: str
    total: int = 0
    closed: int = 0
    closed_on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    open: int = 0
    overdue: int = 0
    drillable: bool = False
    children: list = field(default_factory=list)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return None if not whole else part / whole

    @property
    def closed_rate(self) -> float | None:  # 办结率
        return self._rate(self.closed, self.total)

    @property
    def on_time_rate(self) -> float | None:  # 按时办结率
        return self._rate(self.closed_on_time, self.closed)

    @property
    def satisfaction_rate(self) -> float | None:  # 满意率
        return self._rate(self.satisfied, self.rated)


def supervision_root(user: User, code: str | None = None) -> Region:
    """The region whose figures `user` asks for: `code` if inside their scope, else their own
    region (admins: the top of the tree). NotFoundError outside their scope."""
    if not policies.is_supervisor(user):
        raise NotFoundError(_("Not found."))
    scope = user_scope(user)
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None or not scope.covers_code(region.code):
            raise NotFoundError(_("Region not found."))
        return region
    if scope.everything:
        top = Region.objects.filter(parent__isnull=True).order_by("code").first()
        if top is None:
            raise NotFoundError(_("Region not found."))
        return top
    region = user.scope_region
    if region is None:
        raise NotFoundError(_("Region not found."))
    return region


def _figures_for(qs: QuerySet[ServiceRequest]) -> dict:
    return qs.aggregate(
        total=Count("id"),
        closed=Count("id", filter=Q(state__in=FINAL_STATES)),
        closed_on_time=Count("id", filter=Q(state__in=FINAL_STATES, closed_on_time=True)),
        rated=Count("id", filter=Q(rating__isnull=False)),
        satisfied=Count("id", filter=Q(rating__gte=SATISFIED_MIN)),
        open=Count("id", filter=~Q(state__in=FINAL_STATES)),
        overdue=Count("id", filter=Q(overdue=True) & ~Q(state__in=FINAL_STATES)),
    )


def supervision(
    *,
    user: User,
    code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Figures:
    """办结率, 按时办结率, 满意率 of requests submitted in the period, for the region and each
    region one level down (drill-down: pass a child's code)."""
    root = supervision_root(user, code)
    qs = ServiceRequest.objects.all()
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(
            submitted_at__gte=datetime.combine(date_from, datetime.min.time(), tzinfo=tz)
        )
    if date_to:
        qs = qs.filter(
            submitted_at__lt=datetime.combine(
                date_to + timedelta(days=1), datetime.min.time(), tzinfo=tz
            )
        )
    figures = Figures(
        code=root.code,
        name=root.name,
        level=root.level,
        **_figures_for(qs.filter(region_code__startswith=root.prefix)),
    )
    for child in Region.objects.filter(parent=root).order_by("code"):
        row = Figures(
            code=child.code,
            name=child.name,
            level=child.level,
            drillable=child.level != Region.Level.COMMUNITY,
            **_figures_for(qs.filter(region_code__startswith=child.prefix)),
        )
        figures.children.append(row)
    return figures


def supervision_card(user: User) -> Figures | None:
    """This month's figures of the user's region, for a card on the supervisor dashboard
    (template resident_services/_supervision_card.html); None for anybody but supervisors."""
    if not user.is_authenticated or not policies.is_supervisor(user):
        return None
    try:
        return supervision(user=user, date_from=timezone.localtime().date().replace(day=1))
    except NotFoundError:
        return None
