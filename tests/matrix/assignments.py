"""The access matrix of tasks from above (上级交办任务): pages under /tasks/, APIs under
/api/v1/tasks/.

- task_a: street A's dispatcher issued a visit task to cell A1-1 (asg_a, not yet accepted), with
  an attachment; it belongs to the special campaign campaign_a of street A.
- task_b: the district handler, holding an issuer grant for the district in a court's name
  (court liaison), had a court document served in cell B1-1 (asg_b): worker_b accepted it and
  recorded it delivered with the addressee's signature, so its receipt and signature exist.
- The addressee of task_b is shown in full only to worker_b, the issuer and the admin; street B's
  dispatcher sees the assignment (their area) with the addressee masked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

ROLES: tuple[str, ...] = ()  # the old roles are enough: the handler gets an issuer grant
TASKS = ("task_a", "task_b")
ASSIGNMENTS = ("asg_a", "asg_b")
ISSUERS = {"dispatcher_a", "dispatcher_b", "supervisor", "admin", "handler"}
OFFICE_PAGES = ISSUERS  # issuers and the dispatchers/supervisors of an area


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("matrix.pdf", b"%PDF-1.4\n% matrix\n", content_type="application/pdf")


def _signature() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (200, 80), "white")
    ImageDraw.Draw(image).line([(10, 60), (100, 10), (190, 70)], fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _photo():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 160)).save(buffer, "JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def build(m, w) -> None:
    from django.utils import timezone

    from assignments import services
    from assignments.models import IssuerGrant, TaskKind

    tree = w.tree
    handler = w.users["handler"]
    IssuerGrant.objects.create(user=handler, region=tree["district"], office="MX区法院联络")
    deadline = timezone.now() + timedelta(days=5)
    campaign = services.campaign_create(
        actor=w.users["dispatcher_a"],
        title="MXCAMPA 专项行动",
        region_id=tree["street_a"].pk,
        deadline=deadline,
    )
    task_a = services.task_issue(
        issuer=w.users["dispatcher_a"],
        kind_id=TaskKind.objects.get(code="visit_check").pk,
        title="MXTASKA 入户核查",
        instructions="matrix",
        deadline=None,
        campaign_id=campaign.pk,
        cell_ids=[tree["cell_a1_1"].pk],
        attachments=[_pdf()],
    )
    task_b = services.task_issue(
        issuer=handler,
        kind_id=TaskKind.objects.get(code="service_of_documents").pk,
        title="MXTASKB 送达",
        instructions="matrix",
        deadline=deadline,
        cell_ids=[tree["cell_b1_1"].pk],
        service=services.ServiceInput(
            document_title="判决书",
            addressee_name="MXADDRB",
            addressee_phone="13911110000",
            addressee_address="MXADDRESSB 东铺头",
        ),
    )
    asg_a, asg_b = task_a.assignments.get(), task_b.assignments.get()
    worker_b = w.users["worker_b"]
    services.assignment_accept(assignment_id=asg_b.pk, actor=worker_b)
    services.assignment_complete(
        assignment_id=asg_b.pk,
        actor=worker_b,
        evidence=services.Evidence(
            outcome="delivered", served_place="门口", photo=_photo(), signature=_signature()
        ),
    )
    w.asg_attachment = task_a.attachments.get()
    w.obj.update(task_a=task_a, task_b=task_b, asg_a=asg_a, asg_b=asg_b, campaign_a=campaign)
    w.markers.update(
        asg_a=["MXTASKA"],
        asg_b=["MXTASKB"],
        addressee_b=["MXADDRB", "13911110000", "MXADDRESSB"],
        campaign_a=["MXCAMPA"],
    )
    m.SEES.update(
        task_a={"dispatcher_a", "supervisor", "admin"},
        task_b={"handler", "admin"},
        asg_a={"worker_a", "dispatcher_a", "supervisor", "admin"},
        asg_b={"worker_b", "dispatcher_b", "handler", "admin"},
        addressee_b={"worker_b", "handler", "admin"},
        campaign_a={"dispatcher_a", "supervisor", "admin"},
    )
    m.WRITERS.update(
        task_a={"dispatcher_a", "admin"},
        task_b={"handler", "admin"},
        asg_a={"worker_a", "dispatcher_a", "admin"},
        asg_b={"worker_b", "handler", "admin"},
        campaign_a={"admin"},
    )
    m.EXTRA_FAMILIES.extend(["asg_a", "asg_b", "addressee_b", "campaign_a"])


def snapshot(w) -> dict[str, Any]:
    from assignments.models import Assignment, Campaign, DocumentService, Task

    rows: dict[str, Any] = {}
    for key in ASSIGNMENTS:
        rows[key] = (
            Assignment.objects.filter(pk=w.obj[key].pk)
            .values("state", "worker_id", "cell_id", "due_at", "delivery_outcome", "region_code")
            .first()
        )
    for key in TASKS:
        rows[key] = (
            Task.objects.filter(pk=w.obj[key].pk)
            .values("title", "deadline", "cancelled_at", "issuer_id", "office_region_id")
            .first()
        )
    rows["addressee_b"] = (
        DocumentService.objects.filter(task=w.obj["task_b"])
        .values("addressee_name", "addressee_address")
        .first()
    )
    rows["campaign_a"] = (
        Campaign.objects.filter(pk=w.obj["campaign_a"].pk).values("title", "deadline").first()
    )
    return rows


def changed(w, before: dict, after: dict) -> set[str]:
    return {key for key in before if before[key] != after.get(key)}


def _move(m, *, api: bool):
    """A move of an assignment or a task: hidden → 404; its writers → anything but a 5xx; those
    who see it but may not move it → 403."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return 403 if api else "login"
        if role not in m.SEES[target]:
            return 404
        if role in m.WRITERS[target]:
            return m.ANY_OK
        return 403

    return expect


def _issuer_write(m, *, api: bool):
    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return 403 if api else "login"
        return m.ANY_OK if role in ISSUERS else 403

    return expect


def _receipt(m):
    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return "login"
        if target == "asg_b" and role in m.SEES[target]:
            return 200
        return 404

    return expect


def _iso(*, days: int) -> str:
    from django.utils import timezone

    return (timezone.now() + timedelta(days=days)).isoformat()


def _issue_body(w, target) -> dict:
    from django.utils import timezone

    from assignments.models import TaskKind

    return {
        "kind": TaskKind.objects.get(code="visit_check").pk,
        "title": "matrix",
        "instructions": "matrix",
        "deadline": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "cells": [w.tree["cell_a1_1"].pk],
    }


def _campaign_body(w, target) -> dict:
    from django.utils import timezone

    return {
        "title": "matrix",
        "region": w.tree["street_a"].pk,
        "deadline": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }


def _move_body(w, target) -> dict:
    return {
        "reason": "matrix",
        "return-reason": "matrix",
        "cancel-reason": "matrix",
        "reopen-reason": "matrix",
        "note": "matrix",
        "worker": w.users["worker_a"].pk,
        # not the caller's to set:
        "state": "done",
        "region_code": "350602002001",
    }


def routes(m) -> dict:
    assignment_kwargs = lambda w, t: {"pk": w.obj[t].pk}  # noqa: E731
    api_assignment_kwargs = lambda w, t: {"assignment_id": w.obj[t].pk}  # noqa: E731
    return {
        # --- pages ---------------------------------------------------------------------------
        "assignments:home": m.Route(
            get=m.signed(200),
            shows={("worker_a", None): ("asg_a",), ("worker_b", None): ("asg_b",)},
        ),
        "assignments:issued": m.Route(
            get=m.login_page(OFFICE_PAGES),
            shows={("dispatcher_a", None): ("asg_a",), ("handler", None): ("asg_b",)},
        ),
        "assignments:task_new": m.Route(
            get=m.login_page(ISSUERS),
            post=_issuer_write(m, api=False),
            body=_issue_body,
            multipart=False,
        ),
        "assignments:task": m.Route(get=m.object_page(), targets=TASKS, kwargs=assignment_kwargs),
        "assignments:task_cancel": m.Route(
            get=m.signed(405),
            post=_move(m, api=False),
            targets=TASKS,
            kwargs=assignment_kwargs,
            body=_move_body,
        ),
        "assignments:assignment": m.Route(
            get=m.object_page(),
            targets=ASSIGNMENTS,
            kwargs=assignment_kwargs,
            shows={("worker_b", "asg_b"): ("addressee_b",), ("handler", "asg_b"): ("addressee_b",)},
        ),
        **{
            f"assignments:assignment_{action}": m.Route(
                get=m.signed(405),
                post=_move(m, api=False),
                targets=ASSIGNMENTS,
                kwargs=assignment_kwargs,
                body=_move_body,
            )
            for action in ("accept", "complete", "return", "reassign", "cancel", "reopen")
        },
        "assignments:receipt": m.Route(
            get=_receipt(m),
            targets=ASSIGNMENTS,
            kwargs=assignment_kwargs,
            shows={("handler", "asg_b"): ("addressee_b",)},
        ),
        "assignments:evidence": m.Route(
            get=m.object_page(),
            targets=("asg_b",),
            kwargs=lambda w, t: {"pk": w.obj[t].pk, "kind": "signature"},
        ),
        "assignments:attachment": m.Route(
            get=m.object_page(),
            targets=("asg_a",),
            kwargs=lambda w, t: {"pk": w.asg_attachment.pk},
        ),
        "assignments:campaigns": m.Route(
            get=m.login_page(OFFICE_PAGES), shows={("dispatcher_a", None): ("campaign_a",)}
        ),
        "assignments:campaign_new": m.Route(
            get=m.login_page(ISSUERS), post=_issuer_write(m, api=False), body=_campaign_body
        ),
        "assignments:campaign": m.Route(
            get=m.object_page(),
            targets=("campaign_a",),
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
            shows={("supervisor", "campaign_a"): ("campaign_a",)},
        ),
        "assignments:campaign_export": m.Route(
            get=m.object_page(),
            targets=("campaign_a",),
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
            shows={("dispatcher_a", "campaign_a"): ("asg_a",)},
        ),
        # --- APIs ----------------------------------------------------------------------------
        "api-tasks": m.Route(get=m.api(m.SIGNED), shows={("dispatcher_a", None): ("asg_a",)}),
        "api-tasks-issue": m.Route(
            post=_issuer_write(m, api=True),
            body=lambda w, t: {**_issue_body(w, t), "deadline": _iso(days=2)},
        ),
        "api-tasks-kinds": m.Route(get=m.api(m.SIGNED)),
        "api-tasks-mine": m.Route(get=m.api(m.SIGNED), shows={("worker_a", None): ("asg_a",)}),
        "api-task-detail": m.Route(
            get=m.object_api(), targets=TASKS, kwargs=lambda w, t: {"task_id": w.obj[t].pk}
        ),
        "api-task-cancel": m.Route(
            post=_move(m, api=True),
            targets=TASKS,
            kwargs=lambda w, t: {"task_id": w.obj[t].pk},
            body=_move_body,
        ),
        "api-task-assignment": m.Route(
            get=m.object_api(),
            targets=ASSIGNMENTS,
            kwargs=api_assignment_kwargs,
            shows={("worker_b", "asg_b"): ("addressee_b",)},
        ),
        **{
            f"api-task-assignment-{action}": m.Route(
                post=_move(m, api=True),
                targets=ASSIGNMENTS,
                kwargs=api_assignment_kwargs,
                body=_move_body,
            )
            for action in ("accept", "complete", "return", "reassign", "cancel", "reopen")
        },
        "api-task-campaigns": m.Route(
            get=m.api(m.SIGNED), shows={("dispatcher_a", None): ("campaign_a",)}
        ),
        "api-task-campaign-create": m.Route(
            post=_issuer_write(m, api=True),
            body=lambda w, t: {**_campaign_body(w, t), "deadline": _iso(days=2)},
        ),
        "api-task-campaign": m.Route(
            get=m.object_api(),
            targets=("campaign_a",),
            kwargs=lambda w, t: {"campaign_id": w.obj[t].pk},
        ),
    }
