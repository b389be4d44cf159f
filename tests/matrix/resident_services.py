"""The access matrix of resident services (便民服务): pages under /services/, APIs under
/api/v1/services/. A service handler scoped to community A1 ("service_handler") handles A1's
requests; resident1 (living in A1) asked for one there, resident2 (B1) in B1; each booked a
consultation slot of a legal adviser of street A. The street-A supervisor sees A's requests
and figures; nobody else sees another's request or booking."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

ROLES = ("service_handler",)
STAFF_ROLES: tuple[str, ...] = ()  # not staff for the older apps' pages

REQUESTS = ("svc_req_a", "svc_req_b")
BOOKINGS = ("svc_booking_a", "svc_booking_b")


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("matrix.pdf", b"%PDF-1.4\n% matrix\n", content_type="application/pdf")


def build(m, w) -> None:
    from django.utils import timezone

    from resident_services import services
    from resident_services.models import ConsultationHours, ServiceItem, ServiceProvider
    from tests.builders import make_user

    tree = w.tree
    resident1, resident2 = w.users["resident1"], w.users["resident2"]
    for user, community in ((resident1, tree["a1"]), (resident2, tree["b1"])):
        user.home_region = community
        user.phone_verified_at = timezone.now()
        user.save()
    handler = make_user(
        "matrix_service_handler", roles=["service_handler"], region=tree["a1"], phone="13700000020"
    )
    handler_b = make_user(
        "matrix_service_handler_b",
        roles=["service_handler"],
        region=tree["b1"],
        phone="13700000021",
    )
    w.users["service_handler"] = handler
    lawyer = make_user(
        "matrix_lawyer", roles=["service_handler"], region=tree["street_a"], phone="13700000022"
    )
    ServiceProvider.objects.create(user=lawyer, kind="legal_adviser", title="矩阵律师")
    certificate = ServiceItem.objects.get(code="residence-certificate")
    allowance = ServiceItem.objects.get(code="elderly-allowance")
    w.svc_item = ServiceItem.objects.get(code="repair-referral")  # no materials needed
    req_a = services.request_submit(
        actor=resident1, item_id=certificate.pk, details="MXSVCA 证明", attachments=[_pdf()]
    )
    req_b = services.request_submit(
        actor=resident2, item_id=allowance.pk, details="MXSVCB 津贴", attachments=[_pdf()]
    )
    assert services.handler_ids_for(req_b) == [handler_b.pk]
    tomorrow = timezone.localtime().date() + timedelta(days=1)
    hours = ConsultationHours.objects.create(
        provider=lawyer,
        community=tree["a1"],
        weekday=tomorrow.weekday(),
        start=time(14),
        end=time(17),
        slot_minutes=30,
    )
    start = timezone.make_aware(
        timezone.datetime.combine(tomorrow, time(14)), timezone.get_current_timezone()
    )
    booking_a = services.booking_create(
        actor=resident1, hours_id=hours.pk, starts_at=start, topic="MXBOOKA"
    )
    booking_b = services.booking_create(
        actor=resident2,
        hours_id=hours.pk,
        starts_at=start + timedelta(minutes=30),
        topic="MXBOOKB",
    )
    w.svc_hours = hours
    w.svc_free_slot = start + timedelta(hours=2)
    w.obj.update(
        svc_req_a=req_a,
        svc_req_b=req_b,
        svc_booking_a=booking_a,
        svc_booking_b=booking_b,
        svc_hours=hours,
    )
    w.svc_attachments = {
        "svc_req_a": req_a.attachments.get(),
        "svc_req_b": req_b.attachments.get(),
    }
    w.markers.update(
        svc_req_a=["MXSVCA", req_a.number],
        svc_req_b=["MXSVCB", req_b.number],
        svc_booking_a=["MXBOOKA"],
        svc_booking_b=["MXBOOKB"],
    )
    m.SEES.update(
        svc_req_a={"resident1", "service_handler", "supervisor", "admin"},
        svc_req_b={"resident2", "admin"},
        svc_booking_a={"resident1", "admin"},  # admin: through the admin site only
        svc_booking_b={"resident2", "admin"},
        svc_hours={"admin"},
    )
    m.WRITERS.update(
        svc_req_a={"service_handler", "admin"},
        svc_req_b={"admin"},
        svc_booking_a={"resident1"},
        svc_booking_b={"resident2"},
        svc_hours={"admin"},
    )
    # Cell outlines (and their community's name) are public to every non-staff account, as to
    # residents: the service handler sees them on the grid map like anybody else.
    m.SEES["cell_b"].add("service_handler")
    m.SEES["community_b"].add("service_handler")
    m.EXTRA_FAMILIES.extend(["svc_req_a", "svc_req_b", "svc_booking_a", "svc_booking_b"])


def snapshot(w) -> dict[str, Any]:
    from resident_services.models import ConsultationBooking, ConsultationHours, ServiceRequest

    rows: dict[str, Any] = {}
    for key in REQUESTS:
        rows[key] = (
            ServiceRequest.objects.filter(pk=w.obj[key].pk)
            .values(
                "state", "resident_id", "region_code", "rating", "due_at", "result", "handled_by_id"
            )
            .first()
        )
    for key in BOOKINGS:
        rows[key] = (
            ConsultationBooking.objects.filter(pk=w.obj[key].pk)
            .values("state", "resident_id", "starts_at")
            .first()
        )
    rows["svc_hours"] = (
        ConsultationHours.objects.filter(pk=w.svc_hours.pk)
        .values("active", "provider_id", "weekday")
        .first()
    )
    return rows


def changed(w, before: dict, after: dict) -> set[str]:
    return {key for key in before if before[key] != after.get(key)}


def _owner_write(owners: dict[str, str], *, ok: Any, anonymous: Any = "login"):
    """A write only the object's owner may make: owner → ok, everybody else → 404."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return anonymous
        return ok if owners.get(target) == role else 404

    return expect


def _request_move(m, *, api: bool):
    """A handler's move: writers → anything but a 5xx; the resident and the supervisor see the
    request but may not move it (403); everybody else 404."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return 403 if api else "login"
        if role not in m.SEES[target]:
            return 404
        if role in m.WRITERS[target]:
            return m.ANY_OK
        return 403

    return expect


def routes(m) -> dict:
    owners = {"svc_booking_a": "resident1", "svc_booking_b": "resident2"}
    supervisors = {"supervisor", "admin"}
    booking_body = lambda w, t: {  # noqa: E731
        "hours": w.svc_hours.pk,
        "starts_at": w.svc_free_slot.isoformat(),
        "topic": "matrix",
    }
    return {
        # --- pages ---------------------------------------------------------------------------
        "resident_services:home": m.Route(get=m.everyone(200)),
        "resident_services:item": m.Route(
            get=m.everyone(200), kwargs=lambda w, t: {"pk": w.svc_item.pk}
        ),
        "resident_services:request_new": m.Route(
            get=m.signed(200),
            post=m.signed(302),
            kwargs=lambda w, t: {"pk": w.svc_item.pk},
            body=lambda w, t: {
                "community": w.tree["a1"].pk,
                "details": "matrix",
                # not the caller's to set:
                "state": "completed",
                "resident": w.users["resident2"].pk,
            },
        ),
        "resident_services:my_requests": m.Route(
            get=m.signed(200), shows={("resident1", None): ("svc_req_a",)}
        ),
        "resident_services:request_detail": m.Route(
            get=m.object_page(), targets=REQUESTS, kwargs=lambda w, t: {"pk": w.obj[t].pk}
        ),
        "resident_services:attachment": m.Route(
            get=m.object_page(),
            targets=REQUESTS,
            kwargs=lambda w, t: {"pk": w.obj[t].pk, "attachment_id": w.svc_attachments[t].pk},
        ),
        "resident_services:request_action": m.Route(
            get=m.signed(405),
            post=_request_move(m, api=False),
            targets=REQUESTS,
            kwargs=lambda w, t: {"pk": w.obj[t].pk, "action": "accept"},
            body=lambda w, t: {"accept-note": "matrix", "state": "completed"},
        ),
        "resident_services:queue": m.Route(
            get=m.login_page({"service_handler", "admin"}),
            shows={("service_handler", None): ("svc_req_a",)},
        ),
        "resident_services:consultations": m.Route(get=m.signed(200)),
        "resident_services:consultation_book": m.Route(
            get=m.signed(405), post=m.signed(302), body=booking_body
        ),
        "resident_services:consultation_mine": m.Route(
            get=m.signed(200), shows={("resident1", None): ("svc_booking_a",)}
        ),
        "resident_services:consultation_cancel": m.Route(
            post=_owner_write(owners, ok=302),
            targets=BOOKINGS,
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
        ),
        "resident_services:hours": m.Route(get=m.login_page(set())),
        "resident_services:hours_withdraw": m.Route(
            post=lambda role, target: (
                "login" if role == "anonymous" else (302 if role == "admin" else 404)
            ),
            targets=("svc_hours",),
            kwargs=lambda w, t: {"pk": w.svc_hours.pk},
        ),
        "resident_services:supervision": m.Route(get=m.login_page(supervisors)),
        "resident_services:supervision_export": m.Route(get=m.login_page(supervisors)),
        # --- APIs ----------------------------------------------------------------------------
        "api-services-items": m.Route(get=m.everyone(200)),
        "api-services-requests": m.Route(
            get=m.api(m.SIGNED),
            post=m.api(m.SIGNED, ok_status=201),
            body=lambda w, t: {
                "item": w.svc_item.pk,
                "community": w.tree["a1"].code,
                "state": "completed",
            },
            shows={("service_handler", None): ("svc_req_a",), ("supervisor", None): ("svc_req_a",)},
        ),
        "api-services-request-detail": m.Route(
            get=m.object_api(), targets=REQUESTS, kwargs=lambda w, t: {"request_id": w.obj[t].pk}
        ),
        **{
            f"api-services-request-{action}": m.Route(
                post=_request_move(m, api=True)
                if action not in ("supply", "rate")
                else _resident_move(m),
                targets=REQUESTS,
                kwargs=lambda w, t: {"request_id": w.obj[t].pk},
                body=lambda w, t: {
                    "note": "matrix",
                    "missing": "matrix",
                    "result": "matrix",
                    "reason": "matrix",
                    "rating": 5,
                    "state": "completed",
                },
            )
            for action in ("accept", "ask-materials", "complete", "decline", "supply", "rate")
        },
        "api-services-slots": m.Route(
            get=m.api(m.SIGNED), query=lambda w, t: {"community": w.tree["a1"].code}
        ),
        "api-services-bookings": m.Route(
            get=m.api(m.SIGNED),
            post=m.api(m.SIGNED, ok_status=201),
            body=booking_body,
            shows={("resident1", None): ("svc_booking_a",)},
        ),
        "api-services-booking-cancel": m.Route(
            post=_owner_write(owners, ok=200, anonymous=403),
            targets=BOOKINGS,
            kwargs=lambda w, t: {"booking_id": w.obj[t].pk},
        ),
        "api-services-hours": m.Route(get=m.api(set()), post=m.api(set())),
        "api-services-hours-withdraw": m.Route(
            post=lambda role, target: (
                403 if role == "anonymous" else (200 if role == "admin" else 404)
            ),
            targets=("svc_hours",),
            kwargs=lambda w, t: {"hours_id": w.svc_hours.pk},
        ),
        "api-services-supervision": m.Route(get=m.api(supervisors, refused=404)),
    }


def _resident_move(m):
    """supply / rate: the resident's moves (refused on a submitted request: 400/409); others who
    see the request 403 or a refused move; everybody else 404."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return 403
        if role not in m.SEES[target]:
            return 404
        return (400, 403, 409)

    return expect
