"""Access matrix of deliberation (issue 24): every URL of the app, objects in street A and B.

Who may do what is written out as the policies say it (deliberation.policies): managers
(dispatchers, admins) act inside their region; readers (+ supervisors) see the staff pages;
a role that covers the object's region but may not act gets 403, one that does not 404 (the
object hidden like a missing one); residents' writes need a verified phone and a home community
(resident1 lives in A1, resident2 in B1: set here). The expectation helpers ask the policies for
each role lazily, so roles added by other modules are covered the same way.

Markers that must not leak: a hidden comment's text, the titles of meetings and budget rounds
still being prepared, the full name of a meeting participant."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

_STATE: dict[str, Any] = {}

MANAGERS = {"dispatcher_a", "dispatcher_b", "admin"}
READERS = {"dispatcher_a", "dispatcher_b", "supervisor", "admin"}


def _code(target: str) -> str:
    obj = _STATE["w"].obj[target]
    for path in ("region_code", "proposal.region_code", "round.region_code", "project.region_code"):
        value: Any = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    raise AssertionError(target)


def _user(role: str):  # type: ignore[no-untyped-def]
    return _STATE["w"].users[role]


def staff_write(ok: Any, *, api: bool = False):  # type: ignore[no-untyped-def]
    from deliberation import policies

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return 403 if api else "login"
        user, code = _user(role), _code(target or "")
        if policies.may_manage(user, code):
            return ok
        return 403 if policies.covers(user, code) else 404

    return expect


def resident_write(ok: Any, *, api: bool = False, area: bool = False, staff_too: bool = False):  # type: ignore[no-untyped-def]
    from deliberation import policies

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return 403 if api else "login"
        user = _user(role)
        code = _code(target) if target else ""
        if staff_too and policies.may_manage(user, code):
            return ok
        if not policies.is_verified_resident(user):
            return 403
        if area and not policies.lives_in(
            user, code, "street" if code.endswith("000") else "community"
        ):
            return 403
        return ok

    return expect


def seen(m, *, anonymous: Any = 404):  # type: ignore[no-untyped-def]
    def expect(role: str, target: str | None) -> Any:
        return 200 if role in m.SEES[target] else (anonymous if role == "anonymous" else 404)

    return expect


def routes(m) -> dict:  # type: ignore[no-untyped-def]
    R, everyone, login_page = m.Route, m.everyone, m.login_page
    props = ("dl_prop_a", "dl_prop_b")
    meeting_body = {
        "minutes": "matrix",
        "reason": "matrix",
        "text": "matrix",
        "carried_by": "matrix",
    }
    return {
        "deliberation:home": R(get=everyone(200)),
        "deliberation:proposal-list": R(get=everyone(200)),
        "deliberation:meeting-list": R(get=everyone(200)),
        "deliberation:round-list": R(get=everyone(200)),
        "deliberation:project-list": R(get=everyone(200)),
        "deliberation:manage": R(
            get=login_page(READERS), shows={("dispatcher_a", None): ("dl_prop_a",)}
        ),
        "deliberation:proposal-new": R(get=login_page(m.SIGNED)),
        "deliberation:proposal-detail": R(
            get=everyone(200),
            targets=props,
            kwargs=m.pk_of("pk"),
            shows={("dispatcher_a", "dl_prop_a"): ("dl_hidden_a",)},
        ),
        "deliberation:proposal-support": R(
            get=m.signed(405), post=resident_write(302), targets=props, kwargs=m.pk_of("pk")
        ),
        "deliberation:proposal-comment": R(
            get=m.signed(405),
            post=resident_write(302, staff_too=True),
            targets=props,
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"body": "matrix"},
        ),
        "deliberation:proposal-review": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=props,
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {
                "decision": "accept",
                "state": "declined",
                "author": w.users["resident2"].pk,
            },
        ),
        "deliberation:proposal-convert": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=props,
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"kind": "project"},
        ),
        "deliberation:comment-hide": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_comment_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"reason": "matrix"},
        ),
        "deliberation:comment-show": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_comment_a",),
            kwargs=m.pk_of("pk"),
        ),
        "deliberation:photo": R(get=everyone(200), targets=("dl_photo_a",), kwargs=m.pk_of("pk")),
        "deliberation:photo-thumb": R(
            get=everyone(200), targets=("dl_photo_a",), kwargs=m.pk_of("pk")
        ),
        "deliberation:meeting-new": R(get=login_page(MANAGERS)),
        "deliberation:meeting-detail": R(
            get=seen(m),
            targets=("dl_meet_a", "dl_meet_b", "dl_meet_pub_a"),
            kwargs=m.pk_of("pk"),
            shows={("supervisor", "dl_meet_pub_a"): ("dl_participant",)},
        ),
        **{
            f"deliberation:meeting-{name}": R(
                get=m.signed(405),
                post=staff_write(302),
                targets=("dl_meet_a", "dl_meet_b"),
                kwargs=m.pk_of("pk"),
                body=lambda w, t: {
                    **meeting_body,
                    "kind": w.obj["dl_kind"].pk,
                    "name": "matrix",
                    "due_date": "2030-01-01",
                },
            )
            for name in ("participant", "notice", "minutes", "decide", "close", "cancel")
        },
        "deliberation:decision-detail": R(
            get=everyone(200), targets=("dl_dec_a",), kwargs=m.pk_of("pk")
        ),
        "deliberation:decision-progress": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_dec_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"note": "matrix"},
        ),
        "deliberation:decision-rate": R(
            get=m.signed(405),
            post=resident_write(302, area=True),
            targets=("dl_dec_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"score": 5},
        ),
        "deliberation:progress-photo": R(
            get=everyone(200), targets=("dl_dphoto_a",), kwargs=m.pk_of("pk")
        ),
        "deliberation:round-new": R(get=login_page(MANAGERS)),
        "deliberation:round-detail": R(
            get=seen(m),
            targets=("dl_round_a", "dl_round_b", "dl_round_pub_a"),
            kwargs=m.pk_of("pk"),
        ),
        "deliberation:round-advance": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_round_a", "dl_round_b", "dl_round_pub_a"),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"phase": w.obj[t].phase},
        ),
        "deliberation:round-project-submit": R(
            get=m.signed(405),
            post=resident_write(302, area=True),
            targets=("dl_round_pub_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"title": "matrix", "description": "matrix", "estimated_cost": "100"},
        ),
        "deliberation:round-ballot": R(
            get=m.signed(405),
            post=resident_write(302, area=True),
            targets=("dl_round_pub_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"projects": [w.obj["dl_bp_a"].pk]},
        ),
        "deliberation:budget-project-review": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_bp_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"feasible": "yes"},
        ),
        "deliberation:project-new": R(get=login_page(MANAGERS)),
        "deliberation:project-detail": R(
            get=everyone(200), targets=("dl_proj_a",), kwargs=m.pk_of("pk")
        ),
        "deliberation:project-milestone": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_proj_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"title": "matrix", "due_date": "2030-01-01"},
        ),
        "deliberation:project-spending": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_proj_a",),
            kwargs=m.pk_of("pk"),
            body=lambda w, t: {"amount": "10", "note": "matrix", "spent_on": "2026-12-01"},
        ),
        "deliberation:project-complete": R(
            get=m.signed(405), post=staff_write(302), targets=("dl_proj_a",), kwargs=m.pk_of("pk")
        ),
        "deliberation:milestone-reach": R(
            get=m.signed(405),
            post=staff_write(302),
            targets=("dl_milestone_a",),
            kwargs=m.pk_of("pk"),
        ),
        "deliberation:supervision": R(get=login_page(READERS)),
        "deliberation:supervision-export": R(get=login_page(READERS)),
        # --- API ---
        "api-deliberation-proposals": R(
            get=everyone(200),
            post=resident_write(201, api=True),
            body=lambda w, t: {
                "title": "matrix",
                "description": "matrix",
                "category": "environment",
            },
        ),
        "api-deliberation-proposal": R(
            get=everyone(200), targets=props, kwargs=m.pk_of("proposal_id")
        ),
        "api-deliberation-proposal-support": R(
            post=resident_write(201, api=True), targets=props, kwargs=m.pk_of("proposal_id")
        ),
        "api-deliberation-proposal-comment": R(
            post=resident_write(201, api=True, staff_too=True),
            targets=props,
            kwargs=m.pk_of("proposal_id"),
            body=lambda w, t: {"body": "matrix"},
        ),
        "api-deliberation-proposal-review": R(
            post=staff_write(200, api=True),
            targets=props,
            kwargs=m.pk_of("proposal_id"),
            body=lambda w, t: {"decision": "accept"},
        ),
        "api-deliberation-proposal-convert": R(
            post=staff_write(200, api=True),
            targets=props,
            kwargs=m.pk_of("proposal_id"),
            body=lambda w, t: {"kind": "project"},
        ),
        "api-deliberation-meetings": R(get=everyone(200)),
        "api-deliberation-meeting": R(
            get=seen(m),
            targets=("dl_meet_a", "dl_meet_b", "dl_meet_pub_a"),
            kwargs=m.pk_of("meeting_id"),
        ),
        "api-deliberation-decision": R(
            get=everyone(200), targets=("dl_dec_a",), kwargs=m.pk_of("decision_id")
        ),
        "api-deliberation-decision-progress": R(
            post=staff_write(200, api=True),
            targets=("dl_dec_a",),
            kwargs=m.pk_of("decision_id"),
            body=lambda w, t: {"note": "matrix"},
        ),
        "api-deliberation-decision-rate": R(
            post=resident_write(409, api=True, area=True),
            targets=("dl_dec_a",),
            kwargs=m.pk_of("decision_id"),
            body=lambda w, t: {"score": 5},
        ),
        "api-deliberation-rounds": R(get=everyone(200)),
        "api-deliberation-round": R(
            get=seen(m),
            targets=("dl_round_a", "dl_round_b", "dl_round_pub_a"),
            kwargs=m.pk_of("round_id"),
        ),
        "api-deliberation-round-advance": R(
            post=staff_write((200, 409), api=True),
            targets=("dl_round_a", "dl_round_b", "dl_round_pub_a"),
            kwargs=m.pk_of("round_id"),
            body=lambda w, t: {"phase": w.obj[t].phase},
        ),
        "api-deliberation-round-project": R(
            post=resident_write(201, api=True, area=True),
            targets=("dl_round_pub_a",),
            kwargs=m.pk_of("round_id"),
            body=lambda w, t: {"title": "matrix", "description": "matrix", "estimated_cost": "100"},
        ),
        "api-deliberation-round-ballot": R(
            post=resident_write(409, api=True, area=True),
            targets=("dl_round_pub_a",),
            kwargs=m.pk_of("round_id"),
            body=lambda w, t: {"projects": [w.obj["dl_bp_a"].pk]},
        ),
        "api-deliberation-budget-project-review": R(
            post=staff_write(409, api=True),
            targets=("dl_bp_a",),
            kwargs=m.pk_of("project_id"),
            body=lambda w, t: {"feasible": True},
        ),
        "api-deliberation-projects": R(get=everyone(200)),
        "api-deliberation-project": R(
            get=everyone(200), targets=("dl_proj_a",), kwargs=m.pk_of("project_id")
        ),
    }


def build(m, w) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from deliberation.models import (
        BudgetProject,
        BudgetRound,
        Decision,
        DecisionPhoto,
        DecisionProgress,
        Meeting,
        MeetingParticipant,
        ParticipantKind,
        Project,
        ProjectMilestone,
        Proposal,
        ProposalCategory,
        ProposalComment,
        ProposalPhoto,
    )

    _STATE["w"] = w
    tree = w.tree
    now = timezone.now()
    resident1, resident2 = w.users["resident1"], w.users["resident2"]
    for user, home in ((resident1, tree["a1"]), (resident2, tree["b1"])):
        user.home_region = home
        user.phone_verified_at = now
        user.save(update_fields=["home_region", "phone_verified_at"])
    category = ProposalCategory.objects.get_or_create(
        code="environment", defaults={"name": "环境卫生"}
    )[0]
    kind = ParticipantKind.objects.get_or_create(
        code="resident_rep", defaults={"name": "居民代表"}
    )[0]
    dispatcher_a, dispatcher_b = w.users["dispatcher_a"], w.users["dispatcher_b"]

    def proposal(author, community, title):  # type: ignore[no-untyped-def]
        return Proposal.objects.create(
            community=community,
            region_code=community.code,
            author=author,
            title=title,
            description="matrix",
            category=category,
        )

    prop_a = proposal(resident1, tree["a1"], "MXDLPROPA")
    prop_b = proposal(resident2, tree["b1"], "MXDLPROPB")
    comment = ProposalComment.objects.create(
        proposal=prop_a,
        author=resident2,
        body="MXDLHIDDENA text",
        hidden=True,
        hidden_by=dispatcher_a,
        hidden_at=now,
        hidden_reason="matrix",
    )
    photo = ProposalPhoto(proposal=prop_a)
    photo.image.save("dl_a.jpg", ContentFile(m._jpeg()), save=False)
    photo.thumbnail.save("dl_a_t.jpg", ContentFile(m._jpeg()), save=False)
    photo.save()

    def meeting(community, title, state, author):  # type: ignore[no-untyped-def]
        return Meeting.objects.create(
            community=community,
            region_code=community.code,
            title=title,
            place="matrix",
            starts_at=now + timedelta(days=10),
            state=state,
            created_by=author,
            held_at=now if state == "held" else None,
        )

    meet_a = meeting(tree["a1"], "MXDLMEETA", "planned", dispatcher_a)
    meet_b = meeting(tree["b1"], "MXDLMEETB", "planned", dispatcher_b)
    meet_pub = meeting(tree["a1"], "MXDLPUBLIC meeting", "held", dispatcher_a)
    MeetingParticipant.objects.create(meeting=meet_pub, kind=kind, name="MXDLPARTNAME")
    decision = Decision.objects.create(
        meeting=meet_pub,
        region_code=tree["a1"].code,
        text="matrix decision",
        carried_by="matrix",
        due_date=(now + timedelta(days=30)).date(),
    )
    progress = DecisionProgress.objects.create(
        decision=decision, author=dispatcher_a, note="matrix"
    )
    dphoto = DecisionPhoto(progress=progress)
    dphoto.image.save("dl_d.jpg", ContentFile(m._jpeg()), save=False)
    dphoto.thumbnail.save("dl_d_t.jpg", ContentFile(m._jpeg()), save=False)
    dphoto.save()

    def budget_round(region, title, phase, author):  # type: ignore[no-untyped-def]
        return BudgetRound.objects.create(
            region=region,
            region_code=region.code,
            title=title,
            total=Decimal("1000"),
            rule="votes",
            phase=phase,
            collect_opens_at=now - timedelta(days=1),
            collect_closes_at=now + timedelta(days=5),
            review_closes_at=now + timedelta(days=10),
            vote_opens_at=now + timedelta(days=10),
            vote_closes_at=now + timedelta(days=20),
            created_by=author,
        )

    round_a = budget_round(tree["street_a"], "MXDLROUNDA", "draft", dispatcher_a)
    round_b = budget_round(tree["street_b"], "MXDLROUNDB", "draft", dispatcher_b)
    round_pub = budget_round(tree["street_a"], "MXDLPUBLIC round", "collect", dispatcher_a)
    bp = BudgetProject.objects.create(
        round=round_pub,
        author=resident1,
        title="matrix project",
        description="matrix",
        estimated_cost=Decimal("100"),
    )
    project = Project.objects.create(
        region=tree["a1"], region_code=tree["a1"].code, title="matrix library", source="staff"
    )
    milestone = ProjectMilestone.objects.create(
        project=project, title="matrix", due_date=now.date()
    )
    w.obj.update(
        dl_prop_a=prop_a,
        dl_prop_b=prop_b,
        dl_comment_a=comment,
        dl_photo_a=photo,
        dl_meet_a=meet_a,
        dl_meet_b=meet_b,
        dl_meet_pub_a=meet_pub,
        dl_dec_a=decision,
        dl_dphoto_a=dphoto,
        dl_round_a=round_a,
        dl_round_b=round_b,
        dl_round_pub_a=round_pub,
        dl_bp_a=bp,
        dl_proj_a=project,
        dl_milestone_a=milestone,
        dl_kind=kind,
    )
    everybody = set(m.ROLES)
    staff_a = {"dispatcher_a", "supervisor", "admin"}
    staff_b = {"dispatcher_b", "admin"}
    m.SEES.update(
        dl_prop_a=everybody,
        dl_prop_b=everybody,
        dl_meet_pub_a=everybody,
        dl_round_pub_a=everybody,
        dl_meet_a=staff_a,
        dl_meet_b=staff_b,
        dl_round_a=staff_a,
        dl_round_b=staff_b,
        dl_hidden_a=staff_a,
        dl_participant=staff_a,
    )
    m.WRITERS.update(
        # "volunteer" (tests/matrix/volunteers.py) is a verified resident of A1 too.
        dl_prop_a={"resident1", "resident2", "volunteer", "dispatcher_a", "admin"},
        dl_prop_b={"resident1", "resident2", "volunteer", "dispatcher_b", "admin"},
        dl_meet_a={"dispatcher_a", "admin"},
        dl_meet_b={"dispatcher_b", "admin"},
        dl_dec_a={"dispatcher_a", "admin"},
        dl_round_a={"dispatcher_a", "admin"},
        dl_round_b={"dispatcher_b", "admin"},
        dl_round_pub_a={"dispatcher_a", "admin", "resident1", "volunteer"},
        dl_proj_a={"dispatcher_a", "admin"},
    )
    w.markers.update(
        dl_hidden_a=["MXDLHIDDENA"],
        dl_meet_a=["MXDLMEETA"],
        dl_meet_b=["MXDLMEETB"],
        dl_round_a=["MXDLROUNDA"],
        dl_round_b=["MXDLROUNDB"],
        dl_participant=["MXDLPARTNAME"],
        dl_prop_a=["MXDLPROPA"],
    )
    m.EXTRA_FAMILIES.extend(
        ["dl_hidden_a", "dl_meet_a", "dl_meet_b", "dl_round_a", "dl_round_b", "dl_participant"]
    )


def snapshot(w) -> dict:  # type: ignore[no-untyped-def]
    from django.db.models import Count

    from deliberation.models import BudgetRound, Decision, Meeting, Project, Proposal

    return {
        "proposals": {
            p["pk"]: p
            for p in Proposal.objects.annotate(
                hidden=Count("comments__pk", filter=_hidden())
            ).values(
                "pk",
                "state",
                "supports_all",
                "supports_area",
                "author_id",
                "region_code",
                "public_reply",
                "hidden",
            )
        },
        "meetings": {
            p["pk"]: p
            for p in Meeting.objects.annotate(
                people=Count("participants", distinct=True),
                decided=Count("decisions", distinct=True),
            ).values("pk", "state", "minutes", "notice_published_at", "people", "decided")
        },
        "decisions": {
            p["pk"]: p for p in Decision.objects.values("pk", "state", "ratings_count", "done_at")
        },
        "rounds": {
            p["pk"]: p
            for p in BudgetRound.objects.annotate(
                n=Count("projects", distinct=True), b=Count("ballots", distinct=True)
            ).values("pk", "phase", "n", "b")
        },
        "projects": {
            p["pk"]: p
            for p in Project.objects.annotate(done=Count("milestones__done_at")).values(
                "pk", "state", "spent", "done"
            )
        },
    }


def _hidden():  # type: ignore[no-untyped-def]
    from django.db.models import Q

    return Q(comments__hidden=True)


KEYS = {
    "proposals": ("dl_prop_a", "dl_prop_b"),
    "meetings": ("dl_meet_a", "dl_meet_b", "dl_meet_pub_a"),
    "decisions": ("dl_dec_a",),
    "rounds": ("dl_round_a", "dl_round_b", "dl_round_pub_a"),
    "projects": ("dl_proj_a",),
}


def changed(w, before: dict, after: dict) -> set[str]:  # type: ignore[no-untyped-def]
    keys = set()
    for family, names in KEYS.items():
        for name in names:
            pk = w.obj[name].pk
            if before[family].get(pk) != after[family].get(pk):
                keys.add(name)
    return keys
