"""Every write of resident services. Each service runs in one transaction, locks what it changes,
checks scope, role and state (core.workflow), writes the timeline event and tells whoever must
know (inbox rows in the transaction; SMS by a task after commit: core.services.sms_queue)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core import calendar, workflow
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.services import notification_send, sms_queue
from core.uploads import attachment_clean
from grids.models import Region
from resident_services import policies
from resident_services.models import (
    CLOCK_STATES,
    CONSULTING_KINDS,
    GRAPH,
    BookingState,
    ConsultationBooking,
    ConsultationHours,
    Reach,
    RequestAction,
    RequestState,
    ServiceItem,
    ServicePolicy,
    ServiceRequest,
    ServiceRequestAttachment,
    ServiceRequestEvent,
)

S = RequestState
A = RequestAction
MAX_ATTACHMENTS = 10
REMINDER_FROM_HOUR = 8


def _default_language():
    """Stored texts (inbox, SMS) are in the portal's default language (Chinese)."""
    return translation.override(settings.LANGUAGE_CODE)


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={field: [message]})


def _required(field: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise _field_error(field, message)
    return value


# --- requests: the shared steps ----------------------------------------------------------------


def _lock(request_id: int) -> ServiceRequest:
    return workflow.lock(
        ServiceRequest.objects.select_related("item"),
        request_id,
        not_found=NotFoundError(_("Service request not found.")),
    )


def _conflict(request: ServiceRequest, action: str, target: str | None) -> ConflictError:
    return ConflictError(
        _("This request is “%(state)s”: that cannot be done now.")
        % {"state": request.get_state_display()},
        extra={"state": [request.state]},
    )


def _event(
    request: ServiceRequest,
    *,
    actor: User | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public: bool = True,
    data: dict | None = None,
    at: datetime | None = None,
) -> ServiceRequestEvent:
    return workflow.record(
        ServiceRequestEvent,
        request,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
        data=data,
        created_at=at or timezone.now(),
    )


def _move(
    request: ServiceRequest,
    action: str,
    *,
    actor: User | None,
    target: str | None = None,
    note: str = "",
    data: dict | None = None,
) -> ServiceRequestEvent:
    previous = workflow.move(request, GRAPH, action, target, conflict=_conflict)
    return _event(
        request,
        actor=actor,
        action=action,
        from_state=previous,
        to_state=request.state,
        note=note,
        data=data,
    )


def _require_handler(actor: User, request: ServiceRequest) -> None:
    if policies.may_view(actor, request) and not policies.handles(actor, request):
        raise PermissionDeniedError(_("Only the request's handlers may do this."))
    if not policies.handles(actor, request):
        raise NotFoundError(_("Service request not found."))


def _require_resident(actor: User, request: ServiceRequest) -> None:
    if request.resident_id != actor.pk:
        if policies.may_view(actor, request):
            raise PermissionDeniedError(_("Only the resident who asked may do this."))
        raise NotFoundError(_("Service request not found."))


def detail_url(request: ServiceRequest) -> str:
    return reverse("resident_services:request_detail", args=[request.pk])


def staff_ids_at(code: str, *, roles: Sequence[str], exact_level: str | None = None) -> list[int]:
    """Active users holding one of `roles` whose region covers `code` (with `exact_level`:
    only those scoped at that level, e.g. the street an overdue request escalates to)."""
    users = (
        User.objects.filter(is_active=True, roles__code__in=list(roles))
        .exclude(scope_region__isnull=True)
        .select_related("scope_region")
        .distinct()
    )
    found = []
    for user in users:
        region = user.scope_region
        if region is None or not code.startswith(region.prefix):
            continue
        if exact_level is not None and region.level != exact_level:
            continue
        found.append(user.pk)
    return found


def handler_ids_for(request: ServiceRequest) -> list[int]:
    """The handlers who would see `request` in their queue."""
    candidates = User.objects.filter(
        pk__in=staff_ids_at(request.region_code, roles=[RoleCode.SERVICE_HANDLER])
    )
    return [user.pk for user in candidates if policies.handles(user, request)]


def _tell_handlers(request: ServiceRequest, *, key: str, title: str, body: str = "") -> None:
    with _default_language():
        notification_send(
            user_ids=handler_ids_for(request),
            title=title,
            body=body,
            url=detail_url(request),
            dedupe_key=f"service-request-{request.pk}-{key}",
        )


def _tell_resident(request: ServiceRequest, *, key: str, title: str, body: str = "") -> None:
    """Inbox message to the resident and an SMS to their phone (sent after commit)."""
    notification_send(
        user_ids=[request.resident_id],
        title=title,
        body=body,
        url=detail_url(request),
        dedupe_key=f"service-request-{request.pk}-{key}",
    )
    phone = request.resident.phone
    if phone:
        sms_queue(
            phone=phone,
            text=f"{title} {body}".strip(),
            dedupe_key=f"service-request-{request.pk}-{key}",
        )


def _clean_attachments(uploads: Iterable) -> list:
    uploads = [upload for upload in uploads or [] if upload]
    if len(uploads) > MAX_ATTACHMENTS:
        raise _field_error(
            "attachments",
            _("Attach at most %(count)d files.") % {"count": MAX_ATTACHMENTS},
        )
    return [(attachment_clean(upload), upload.name) for upload in uploads]


def _store_attachments(
    request: ServiceRequest, cleaned: list, *, actor: User, supplement: bool
) -> None:
    for file, name in cleaned:
        ServiceRequestAttachment.objects.create(
            request=request,
            file=file,
            name=(name or "file")[:255],
            uploaded_by=actor,
            supplement=supplement,
        )


def communities_for(user: User, item: ServiceItem):
    """The communities where `user` may ask for `item`: their own only, or any (全市通办)."""
    communities = Region.objects.filter(level=Region.Level.COMMUNITY)
    if item.reach == Reach.OWN_COMMUNITY:
        return (
            communities.filter(pk=user.home_region_id)
            if user.home_region_id
            else communities.none()
        )
    return communities


# --- requests: the moves ------------------------------------------------------------------------


def request_submit(
    *,
    actor: User,
    item_id: int,
    community_id: int | None = None,
    details: str = "",
    attachments: Iterable = (),
) -> ServiceRequest:
    """A signed-in resident asks for a service in a community (their own by default). The
    item's required materials must be attached (checked by content, core.uploads). The time
    limit (working days, core.calendar) starts now. Tells the community's handlers."""
    if not actor.is_authenticated:
        raise PermissionDeniedError(_("Sign in to ask for a service."))
    item = ServiceItem.objects.filter(pk=item_id, active=True).first()
    if item is None:
        raise _field_error("item", _("This service is not offered."))
    community_id = community_id or actor.home_region_id
    if community_id is None:
        raise _field_error("community", _("Choose the community where you want it handled."))
    community = communities_for(actor, item).filter(pk=community_id).first()
    if community is None:
        if item.reach == Reach.OWN_COMMUNITY:
            raise _field_error(
                "community",
                _("This service is handled only in your own community."),
            )
        raise _field_error("community", _("Choose a community."))
    cleaned = _clean_attachments(attachments)
    if item.material_list and not cleaned:
        raise _field_error(
            "attachments",
            _("Attach the required materials: %(materials)s")
            % {"materials": "、".join(item.material_list)},
        )
    now = timezone.now()
    with transaction.atomic():
        request = ServiceRequest(
            item=item,
            resident=actor,
            community=community,
            region_code=community.code,
            details=(details or "").strip(),
            submitted_at=now,
            due_at=calendar.add_working_days(now, item.time_limit_days),
        )
        _save_with_new_number(request, now)
        _store_attachments(request, cleaned, actor=actor, supplement=False)
        _event(request, actor=actor, action=A.SUBMIT, to_state=request.state, at=now)
        _tell_handlers(
            request,
            key="submitted",
            title=_("New service request %(number)s: %(item)s")
            % {"number": request.number, "item": item.name},
        )
    return request


def _save_with_new_number(request: ServiceRequest, now: datetime) -> None:
    """Insert with a random number (FW + date + 6 hex digits: not guessable from another's);
    a clash with an existing number (unlikely) draws another, inside a savepoint."""
    for _attempt in range(5):
        request.number = f"FW{timezone.localtime(now):%Y%m%d}{uuid.uuid4().hex[:6].upper()}"
        try:
            with transaction.atomic():
                request.save(force_insert=True)
            return
        except IntegrityError:
            if not ServiceRequest.objects.filter(number=request.number).exists():
                raise
    raise ConflictError(_("Please try again."))


def request_accept(*, actor: User, request_id: int, note: str = "") -> ServiceRequest:
    """submitted → accepted, by a handler in scope. Lock; tells the resident (inbox)."""
    with transaction.atomic():
        request = _lock(request_id)
        _require_handler(actor, request)
        _move(request, A.ACCEPT, actor=actor, note=note)
        request.handled_by = actor
        request.accepted_at = timezone.now()
        request.save()
        with _default_language():
            notification_send(
                user_ids=[request.resident_id],
                title=_("Your service request %(number)s is being handled")
                % {"number": request.number},
                url=detail_url(request),
                dedupe_key=f"service-request-{request.pk}-accepted",
            )
    return request


def request_ask_materials(*, actor: User, request_id: int, missing: str) -> ServiceRequest:
    """→ awaiting_materials (补正): the clock stops until the resident supplies them. Tells
    the resident by inbox and SMS."""
    missing = _required("missing", missing, _("Say which materials are missing."))
    with transaction.atomic():
        request = _lock(request_id)
        _require_handler(actor, request)
        _move(request, A.ASK_MATERIALS, actor=actor, note=missing)
        request.missing_materials = missing
        request.paused_at = timezone.now()
        request.handled_by = request.handled_by or actor
        request.save()
        with _default_language():
            _tell_resident(
                request,
                key=f"materials-{request.events.count()}",
                title=_("Service request %(number)s: please supply materials")
                % {"number": request.number},
                body=missing,
            )
    return request


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after `start`'s day up to and including `end`'s day."""
    day, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    count = 0
    while day < last:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def request_supply(
    *, actor: User, request_id: int, attachments: Iterable = (), note: str = ""
) -> ServiceRequest:
    """The resident supplies what was asked for: awaiting_materials → where it was (submitted
    or accepted). The clock resumes: the deadline moves by the working days it stood still."""
    cleaned = _clean_attachments(attachments)
    if not cleaned:
        raise _field_error("attachments", _("Attach the materials you were asked for."))
    with transaction.atomic():
        request = _lock(request_id)
        _require_resident(actor, request)
        target = S.ACCEPTED if request.accepted_at else S.SUBMITTED
        now = timezone.now()
        paused_days = working_days_between(request.paused_at or now, now)
        _move(
            request,
            A.SUPPLY,
            actor=actor,
            target=target,
            note=(note or "").strip(),
            data={"paused_working_days": paused_days},
        )
        _store_attachments(request, cleaned, actor=actor, supplement=True)
        if paused_days and request.due_at is not None:
            request.due_at = calendar.add_working_days(request.due_at, paused_days)
        request.paused_at = None
        request.missing_materials = ""
        if request.due_at is not None and request.due_at > now:
            request.overdue = False
        request.warned_for = None
        request.save()
        _tell_handlers(
            request,
            key=f"supplied-{request.events.count()}",
            title=_("Service request %(number)s: materials supplied") % {"number": request.number},
        )
    return request


def _close(request: ServiceRequest, now: datetime) -> None:
    request.closed_at = now
    request.closed_on_time = request.due_at is None or now <= request.due_at
    request.paused_at = None


def request_complete(*, actor: User, request_id: int, result: str) -> ServiceRequest:
    """accepted → completed with the result; the resident is told (inbox, SMS) and asked to
    rate."""
    result = _required("result", result, _("Write the result for the resident."))
    with transaction.atomic():
        request = _lock(request_id)
        _require_handler(actor, request)
        _move(request, A.COMPLETE, actor=actor, note=result)
        request.result = result
        request.handled_by = request.handled_by or actor
        _close(request, timezone.now())
        request.save()
        with _default_language():
            _tell_resident(
                request,
                key="completed",
                title=_("Service request %(number)s is done; please rate it")
                % {"number": request.number},
                body=result[:120],
            )
    return request


def request_decline(*, actor: User, request_id: int, reason: str) -> ServiceRequest:
    """Any open state → declined, with the reason the resident reads (inbox, SMS)."""
    reason = _required("reason", reason, _("Give the reason for declining."))
    with transaction.atomic():
        request = _lock(request_id)
        _require_handler(actor, request)
        _move(request, A.DECLINE, actor=actor, note=reason)
        request.decline_reason = reason
        request.handled_by = request.handled_by or actor
        _close(request, timezone.now())
        request.save()
        with _default_language():
            _tell_resident(
                request,
                key="declined",
                title=_("Service request %(number)s was declined") % {"number": request.number},
                body=reason[:120],
            )
    return request


def request_rate(*, actor: User, request_id: int, rating: int, comment: str = "") -> ServiceRequest:
    """The resident rates a completed or declined request, once (a side move)."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise _field_error("rating", _("Choose a rating from 1 to 5."))
    with transaction.atomic():
        request = _lock(request_id)
        _require_resident(actor, request)
        workflow.check(request, GRAPH, A.RATE, conflict=_conflict)
        if request.rated_at is not None:
            raise ConflictError(_("You have already rated this request."))
        request.rating = rating
        request.rating_comment = (comment or "").strip()
        request.rated_at = timezone.now()
        _event(
            request,
            actor=actor,
            action=A.RATE,
            note=request.rating_comment,
            data={"rating": rating},
        )
        request.save()
    return request


# --- the sweep ---------------------------------------------------------------------------------


def _street_and_district(code: str) -> tuple[str, str]:
    return code[:9] + "000", code[:6] + "000000"


def requests_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Warn handlers before a deadline, flag overdue requests and escalate them: to the
    street at once, to the district `escalate_after_working_days` later. Requests waiting for
    materials are left alone (their clock stands still). Idempotent: each request is re-read
    under a lock and the marks (warned_for, overdue, escalation_level) are checked first."""
    now = now or timezone.now()
    policy = ServicePolicy.current()
    counts = {"warned": 0, "overdue": 0, "escalated": 0}
    warn_until = now + timedelta(hours=policy.warn_hours_before_due)

    near = ServiceRequest.objects.filter(
        state__in=CLOCK_STATES, due_at__gt=now, due_at__lte=warn_until
    )
    for pk, due, warned in near.values_list("pk", "due_at", "warned_for"):
        if warned == due:
            continue
        with transaction.atomic():
            request = _lock(pk)
            if request.state not in CLOCK_STATES or request.warned_for == request.due_at:
                continue
            if request.due_at is None or not (now < request.due_at <= warn_until):
                continue
            request.warned_for = request.due_at
            _event(request, actor=None, action=A.WARN, public=False, at=now)
            request.save(update_fields=["warned_for"])
            with _default_language():
                _tell_handlers(
                    request,
                    key=f"warn-{request.due_at:%Y%m%d%H%M}",
                    title=_("Service request %(number)s is due %(date)s")
                    % {
                        "number": request.number,
                        "date": timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M"),
                    },
                )
            counts["warned"] += 1

    late = ServiceRequest.objects.filter(state__in=CLOCK_STATES, due_at__lt=now, overdue=False)
    for pk in list(late.values_list("pk", flat=True)):
        with transaction.atomic():
            request = _lock(pk)
            if request.state not in CLOCK_STATES or request.overdue:
                continue
            if request.due_at is None or request.due_at >= now:
                continue
            request.overdue = request.ever_overdue = True
            _event(request, actor=None, action=A.OVERDUE, public=False, at=now)
            if request.escalation_level < 1:
                request.escalation_level = 1
                street, _district = _street_and_district(request.region_code)
                _event(
                    request,
                    actor=None,
                    action=A.ESCALATE,
                    public=False,
                    data={"level": 1, "region": street},
                    at=now,
                )
                counts["escalated"] += 1
            request.save(update_fields=["overdue", "ever_overdue", "escalation_level"])
            with _default_language():
                title = _("Service request %(number)s is overdue") % {"number": request.number}
                _tell_handlers(request, key=f"overdue-{request.due_at:%Y%m%d%H%M}", title=title)
                notification_send(
                    user_ids=staff_ids_at(
                        request.region_code,
                        roles=[RoleCode.SUPERVISOR, RoleCode.SERVICE_HANDLER],
                        exact_level=Region.Level.STREET,
                    ),
                    title=title,
                    url=detail_url(request),
                    dedupe_key=f"service-request-{request.pk}-escalate-1",
                )
            counts["overdue"] += 1

    escalate = ServiceRequest.objects.filter(
        state__in=CLOCK_STATES, overdue=True, escalation_level=1
    )
    for pk in list(escalate.values_list("pk", flat=True)):
        with transaction.atomic():
            request = _lock(pk)
            if request.state not in CLOCK_STATES or request.escalation_level != 1:
                continue
            if request.due_at is None:
                continue
            if calendar.add_working_days(request.due_at, policy.escalate_after_working_days) >= now:
                continue
            request.escalation_level = 2
            _street, district = _street_and_district(request.region_code)
            _event(
                request,
                actor=None,
                action=A.ESCALATE,
                public=False,
                data={"level": 2, "region": district},
                at=now,
            )
            request.save(update_fields=["escalation_level"])
            with _default_language():
                notification_send(
                    user_ids=staff_ids_at(
                        request.region_code,
                        roles=[RoleCode.SUPERVISOR],
                        exact_level=Region.Level.DISTRICT,
                    ),
                    title=_("Service request %(number)s is still overdue")
                    % {"number": request.number},
                    url=detail_url(request),
                    dedupe_key=f"service-request-{request.pk}-escalate-2",
                )
            counts["escalated"] += 1
    return counts


# --- consultation hours and bookings ------------------------------------------------------------


def hours_publish(
    *,
    actor: User,
    community_id: int,
    weekday: int,
    start,
    end,
    slot_minutes: int = 30,
    place: str = "",
) -> ConsultationHours:
    """A legal adviser or family doctor publishes weekly hours in a community of their
    region."""
    if not policies.is_consultant(actor):
        raise PermissionDeniedError(_("Only legal advisers and family doctors publish hours."))
    community = Region.objects.filter(pk=community_id, level=Region.Level.COMMUNITY).first()
    if community is None or not community.code.startswith(policies.handler_prefix(actor) or "-"):
        raise _field_error("community", _("Choose a community of your region."))
    if end <= start:
        raise _field_error("end", _("The hours must end after they start."))
    if not 10 <= int(slot_minutes) <= 240:
        raise _field_error("slot_minutes", _("A slot lasts 10 to 240 minutes."))
    with transaction.atomic():
        return ConsultationHours.objects.create(
            provider=actor,
            community=community,
            weekday=weekday,
            start=start,
            end=end,
            slot_minutes=slot_minutes,
            place=(place or "").strip(),
        )


def hours_withdraw(*, actor: User, hours_id: int) -> ConsultationHours:
    """The provider stops offering the hours (bookings already made stay)."""
    with transaction.atomic():
        hours = workflow.lock(
            ConsultationHours, hours_id, not_found=NotFoundError(_("Hours not found."))
        )
        if hours.provider_id != actor.pk and not actor.is_portal_admin:
            raise NotFoundError(_("Hours not found."))
        hours.active = False
        hours.save(update_fields=["active"])
    return hours


@dataclass(frozen=True)
class Slot:
    hours_id: int
    provider_id: int
    provider_name: str
    kind: str
    community_id: int
    place: str
    starts_at: datetime
    ends_at: datetime
    free: bool


def slot_times(hours: ConsultationHours, day: date) -> list[tuple[datetime, datetime]]:
    """The slots of `hours` on `day` (none unless it is the hours' weekday)."""
    if day.weekday() != hours.weekday:
        return []
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, hours.start, tzinfo=tz)
    end = datetime.combine(day, hours.end, tzinfo=tz)
    step = timedelta(minutes=hours.slot_minutes)
    slots = []
    while start + step <= end:
        slots.append((start, start + step))
        start += step
    return slots


def _is_slot(hours: ConsultationHours, starts_at: datetime, now: datetime, days_ahead: int):
    local = timezone.localtime(starts_at)
    if starts_at <= now or local.date() > timezone.localtime(now).date() + timedelta(
        days=days_ahead
    ):
        return None
    for start, end in slot_times(hours, local.date()):
        if start == starts_at:
            return start, end
    return None


def booking_create(
    *, actor: User, hours_id: int, starts_at: datetime, topic: str = ""
) -> ConsultationBooking:
    """Book one slot. The hours row is locked (bookings of one provider's hours queue behind
    each other) and a partial unique index (provider, start) of live bookings makes a double
    booking impossible whatever the race: the loser gets a ConflictError and nothing changes."""
    if not actor.is_authenticated:
        raise PermissionDeniedError(_("Sign in to book a consultation."))
    now = timezone.now()
    policy = ServicePolicy.current()
    try:
        with transaction.atomic():
            hours = workflow.lock(
                ConsultationHours.objects.filter(active=True),
                hours_id,
                not_found=_field_error("hours", _("These consultation hours are not offered.")),
            )
            slot = _is_slot(hours, starts_at, now, policy.booking_days_ahead)
            if slot is None:
                raise _field_error("starts_at", _("Choose one of the free slots offered."))
            if hours.provider_id == actor.pk:
                raise _field_error("hours", _("You cannot book your own hours."))
            taken = ConsultationBooking.objects.filter(
                provider_id=hours.provider_id, starts_at=slot[0], state=BookingState.BOOKED
            ).exists()
            if taken:
                raise _slot_taken()
            booking = ConsultationBooking.objects.create(
                hours=hours,
                provider_id=hours.provider_id,
                resident=actor,
                community_id=hours.community_id,
                starts_at=slot[0],
                ends_at=slot[1],
                topic=(topic or "").strip()[:200],
                created_at=now,
            )
            with _default_language():
                notification_send(
                    user_ids=[hours.provider_id],
                    title=_("New consultation booking %(time)s")
                    % {"time": timezone.localtime(slot[0]).strftime("%Y-%m-%d %H:%M")},
                    url=reverse("resident_services:consultation_mine"),
                    dedupe_key=f"service-booking-{booking.pk}-booked",
                )
    except IntegrityError:
        raise _slot_taken() from None
    return booking


def _slot_taken() -> ConflictError:
    message = _("Sorry, this slot was just taken. Please choose another one.")
    return ConflictError(message, extra={"starts_at": [message]})


def booking_cancel(*, actor: User, booking_id: int) -> ConsultationBooking:
    """The resident cancels, up to `cancel_hours_before` the slot and at most
    `cancellations_per_30_days` times (ServicePolicy); the slot is free again."""
    now = timezone.now()
    policy = ServicePolicy.current()
    with transaction.atomic():
        booking = workflow.lock(
            ConsultationBooking, booking_id, not_found=NotFoundError(_("Booking not found."))
        )
        if booking.resident_id != actor.pk:
            raise NotFoundError(_("Booking not found."))
        if booking.state != BookingState.BOOKED:
            raise ConflictError(_("This booking is already cancelled."))
        if booking.starts_at - now < timedelta(hours=policy.cancel_hours_before):
            raise ValidationFailed(
                _("A booking can be cancelled only up to %(hours)d hours before it.")
                % {"hours": policy.cancel_hours_before}
            )
        recent = ConsultationBooking.objects.filter(
            resident=actor,
            state=BookingState.CANCELLED,
            cancelled_at__gte=now - timedelta(days=30),
        ).count()
        if recent >= policy.cancellations_per_30_days:
            raise ValidationFailed(
                _("You have cancelled %(count)d bookings in 30 days: no more cancellations now.")
                % {"count": recent}
            )
        booking.state = BookingState.CANCELLED
        booking.cancelled_at = now
        booking.save(update_fields=["state", "cancelled_at"])
        with _default_language():
            notification_send(
                user_ids=[booking.provider_id],
                title=_("Consultation booking %(time)s cancelled")
                % {"time": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M")},
                url=reverse("resident_services:consultation_mine"),
                dedupe_key=f"service-booking-{booking.pk}-cancelled",
            )
    return booking


def bookings_remind(*, now: datetime | None = None) -> int:
    """An SMS the day before each live booking (beat task). Idempotent: reminded_at is set
    under the row lock and the SMS carries a dedupe key, so a second run sends nothing."""
    now = now or timezone.now()
    if timezone.localtime(now).hour < REMINDER_FROM_HOUR:
        return 0  # nobody gets an SMS at night; the next run after 08:00 sends them
    tomorrow = timezone.localtime(now).date() + timedelta(days=1)
    tz = timezone.get_current_timezone()
    start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=tz)
    due = ConsultationBooking.objects.filter(
        state=BookingState.BOOKED,
        reminded_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=start + timedelta(days=1),
    )
    sent = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            booking = workflow.lock(
                ConsultationBooking.objects.select_related("resident", "community", "hours"), pk
            )
            if booking.state != BookingState.BOOKED or booking.reminded_at is not None:
                continue
            booking.reminded_at = now
            booking.save(update_fields=["reminded_at"])
            if booking.resident.phone:
                with _default_language():
                    sms_queue(
                        phone=booking.resident.phone,
                        text=_("Reminder: your consultation at %(place)s is at %(time)s tomorrow.")
                        % {
                            "place": booking.hours.place or booking.community.name,
                            "time": timezone.localtime(booking.starts_at).strftime("%H:%M"),
                        },
                        dedupe_key=f"service-booking-{booking.pk}-reminder",
                    )
                sent += 1
    return sent


__all__ = [
    "CONSULTING_KINDS",
    "Slot",
    "booking_cancel",
    "booking_create",
    "bookings_remind",
    "communities_for",
    "hours_publish",
    "hours_withdraw",
    "request_accept",
    "request_ask_materials",
    "request_complete",
    "request_decline",
    "request_rate",
    "request_submit",
    "request_supply",
    "requests_sweep",
]
