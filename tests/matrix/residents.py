"""The residents' front door in the access matrix (issue 17): the public home and pages, sign-up
and sign-in by SMS code, 我的 and the data rights, 附议 (nearby, follow), 办理公开, the staff's
merge and public-result pages of incidents, and the CAPTCHA's own routes.

Objects: `inc_dup_a` (a duplicate in street A reported by resident1: seen like inc_a, merged
and published by street A's dispatcher, the supervisor and the admin) and `inc_public` (a
closed report of a published category with a photo marked public: everybody sees it on the
results pages, and that photo; photo_a, not public, nobody through the public photo route).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

MERGERS = {"dispatcher_a", "supervisor", "admin"}


def _reporter_only(m, reporter: dict[str, str]):
    """residents:report: the report's own reporter (or a follower) → 200; everybody else 404."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return "login"
        return 200 if reporter.get(target) == role else 404

    return expect


def _merge_expect(m, *, ok: Any, page: bool):
    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return "login" if page else 403
        if role not in m.SEES[target]:
            return 404
        return ok if role in MERGERS else 403

    return expect


def routes(m) -> dict:
    signed_home = m.signed((200, 302), anonymous=200)  # signed in: off to 我的
    public_id = lambda key: lambda w, target: {"public_id": w.obj[key].public_id}  # noqa: E731
    return {
        "residents:privacy": m.Route(get=m.everyone(200)),
        "residents:sign_up": m.Route(
            get=signed_home,
            post=m.signed(302, anonymous=200),
            body=lambda w, t: {"send": "1", "phone": "13911119876"},
            note="anonymous: a code is sent (the form again); signed in: off to 我的",
        ),
        "residents:sign_in": m.Route(
            get=signed_home,
            post=m.signed(302, anonymous=400),
            body=lambda w, t: {"phone": w.users["resident1"].phone, "code": "000000"},
            note="no code was sent: the form with its error (400), nothing changed",
        ),
        "residents:mine": m.Route(
            get=m.login_page(m.SIGNED),
            shows={("resident1", None): ("note_r1",), ("resident2", None): ("note_r2",)},
        ),
        "residents:claim": m.Route(
            get=m.login_page(m.SIGNED),
            post=lambda role, t: (
                "login" if role == "anonymous" else (302 if _verified(role) else 400)
            ),
            body=lambda w, t: {"code": "123456"},
            note="an unverified phone with no code sent: 400, nothing claimed; a verified one "
            "(resident1/2: the deliberation and services modules verify them) claims at once",
        ),
        "residents:my_data": m.Route(get=m.login_page(m.SIGNED)),
        "residents:my_data_json": m.Route(
            get=m.login_page(m.SIGNED),
            shows={("resident1", None): ("inc_a",), ("resident2", None): ("inc_b",)},
        ),
        "residents:my_data_xlsx": m.Route(get=m.login_page(m.SIGNED)),
        "residents:close_account": m.Route(
            get=m.login_page(m.SIGNED),
            post=m.signed(400),
            body=lambda w, t: {"confirm_phone": "13000000000"},
        ),
        "residents:report": m.Route(
            get=_reporter_only(m, {"inc_a": "resident1", "inc_b": "resident2"}),
            targets=("inc_a", "inc_b"),
            kwargs=lambda w, target: {"public_id": w.obj[target].public_id},
        ),
        "residents:follow": m.Route(
            post=m.everyone((302, 404)),
            targets=("inc_a", "inc_internal"),
            kwargs=lambda w, target: {"public_id": w.obj[target].public_id},
            note="anonymous → sign in; signed in → follows (or is told it is their own); "
            "an internal-only incident is never followed (404)",
        ),
        "residents:results": m.Route(get=m.everyone(200)),
        "residents:result": m.Route(
            get=m.everyone(200), kwargs=lambda w, t: {"public_id": w.obj["inc_public"].public_id}
        ),
        "residents:public_photo": m.Route(
            get=lambda role, target: 200 if target == "photo_public" else 404,
            targets=("photo_public", "photo_a"),
            kwargs=lambda w, target: {"pk": w.obj[target].pk},
        ),
        "incidents:merge": m.Route(
            get=_merge_expect(m, ok=200, page=True),
            post=_merge_expect(m, ok=302, page=True),
            targets=("inc_dup_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"into": w.obj["inc_a"].public_id, "reason": "matrix"},
        ),
        "incidents:public_result": m.Route(
            get=_merge_expect(m, ok=200, page=True),
            post=_merge_expect(m, ok=302, page=True),
            targets=("inc_dup_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"public_result": "matrix"},
        ),
        "api-incident-merge": m.Route(
            post=_merge_expect(m, ok=200, page=False),
            targets=("inc_dup_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"into": w.obj["inc_a"].public_id, "reason": "matrix"},
        ),
        "api-incident-public-result": m.Route(
            post=_merge_expect(m, ok=200, page=False),
            targets=("inc_dup_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"public_result": "matrix"},
        ),
        "api-residents-figures": m.Route(get=m.everyone(200)),
        "api-residents-codes": m.Route(
            post=m.everyone((202, 429)),
            body=lambda w, t: {"phone": "13911110001", "purpose": "sign_up"},
            note="one phone for every role: the first is sent, the rest are over 1/min",
        ),
        "api-residents-sign-up": m.Route(
            post=m.everyone(400),
            body=lambda w, t: {
                "phone": "13911110002",
                "code": "000000",
                "name": "matrix",
                "home_region": w.tree["a1"].pk,
                "privacy_accepted": True,
            },
        ),
        "api-residents-sign-in": m.Route(
            post=m.everyone(400),
            body=lambda w, t: {"phone": w.users["resident1"].phone, "code": "000000"},
        ),
        "api-residents-mine": m.Route(
            get=m.api(m.SIGNED),
            shows={("resident1", None): ("note_r1",)},
        ),
        "api-residents-claim": m.Route(post=lambda role, t: 200 if _verified(role) else 403),
        "api-residents-data": m.Route(get=m.api(m.SIGNED), shows={("resident1", None): ("inc_a",)}),
        "api-residents-close": m.Route(
            post=m.api(m.SIGNED, ok_status=400),
            body=lambda w, t: {"confirm_phone": "13000000000"},
        ),
        "api-residents-nearby": m.Route(
            get=m.everyone(200),
            query=lambda w, t: {
                "category": w.obj["inc_a"].category.code,
                "lat": 24.505,
                "lng": 117.605,
            },
            public_incidents=True,
            note="附议: open reports' public text is public by design (like Open311)",
        ),
        "api-residents-follows": m.Route(
            post=m.api(m.SIGNED, ok_status=(201, 409)),
            body=lambda w, t: {"public_id": w.obj["inc_a"].public_id},
            public_incidents=True,
        ),
        "api-residents-results": m.Route(get=m.everyone(200)),
        "api-residents-result": m.Route(
            get=m.everyone(200),
            kwargs=public_id("inc_public"),
        ),
        "captcha-image": m.Route(get=m.everyone(410), kwargs=lambda w, t: {"key": "nosuchkey"}),
        "captcha-image-2x": m.Route(
            get=m.everyone((404, 410)), kwargs=lambda w, t: {"key": "nosuchkey"}
        ),
        "captcha-audio": m.Route(get=m.everyone(404), kwargs=lambda w, t: {"key": "nosuchkey"}),
        "captcha-refresh": m.Route(get=m.everyone(404)),
    }


_STATE: dict = {}


def _verified(role: str) -> bool:
    """Whether the role's user has a verified phone (other modules' builds verify some)."""
    user = _STATE["w"].users.get(role) if "w" in _STATE else None
    if user is None:
        return False
    user.refresh_from_db(fields=["phone_verified_at"])
    return user.phone_verified_at is not None


def build(m, w) -> None:
    _STATE["w"] = w
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from incidents.models import Category, IncidentPhoto
    from incidents.tests.factories import make_incident

    category = w.obj["inc_a"].category
    city = SimpleNamespace(
        cell_a1_1=w.tree["cell_a1_1"],
        categories={c.code: c for c in Category.objects.all()},
        resident=w.users["resident1"],
        worker=w.users["worker_a"],
    )
    w.obj["inc_dup_a"] = make_incident(
        city, reporter=w.users["resident1"], description="MXDUPA again", category=category.code
    )
    published = Category.objects.filter(code="0102").first() or category
    Category.objects.filter(pk=published.pk).update(publish_results=True)
    public = make_incident(
        city,
        state="closed",
        closed_at=timezone.now(),
        category=published.code,
        description="public result",
        public_result="done",
    )
    w.obj["inc_public"] = public
    photo = IncidentPhoto(incident=public, public=True)
    photo.image.save("public.jpg", ContentFile(b"\xff\xd8\xff\xe0public"), save=False)
    photo.save()
    w.obj["photo_public"] = photo
    w.markers["inc_dup_a"] = [w.obj["inc_dup_a"].tracking_number, "MXDUPA"]
    m.SEES["inc_dup_a"] = m.SEES["inc_a"]
    m.WRITERS["inc_dup_a"] = MERGERS
    m.SEES["inc_public"] = set(m.ROLES)
    m.SEES["photo_public"] = set(m.ROLES)
    m.EXTRA_FAMILIES.append("inc_dup_a")


def snapshot(w) -> Any:
    from incidents.models import Incident

    return list(
        Incident.objects.filter(pk=w.obj["inc_dup_a"].pk).values(
            "state", "merged_into_id", "public_result", "reporter_id"
        )
    )


def changed(w, before, after) -> set[str]:
    return {"inc_dup_a"} if before != after else set()
