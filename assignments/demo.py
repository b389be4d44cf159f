"""Demo tasks from above, through the services: the court liaison (demo login `court`, the
district's 法院联络员 with an issuer grant) has a judgment served in the demo grid worker's cell,
and street 西桥's dispatcher runs a special campaign over the street's communities. Called
after the grids demo (the demo users and cells exist). Idempotent: a task or campaign whose
title is already there is skipped; the court login is created once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Role, RoleCode, User
from assignments import services
from assignments.models import Campaign, IssuerGrant, Task, TaskKind
from grids.models import GridCell, Region

COURT_USERNAME = "court"
COURT_OFFICE = "芗城区人民法院"
SERVICE_TITLE = "送达民事判决书（(2026)闽0602民初1234号）"
CAMPAIGN_TITLE = "冬季燃气安全专项排查"
VISIT_TITLE = "入户排查燃气使用情况"


def _write(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _court(district: Region) -> User:
    from grids.demo import DEMO_PASSWORD

    user = User.objects.filter(username=COURT_USERNAME).first()
    if user is None:
        user = User(
            username=COURT_USERNAME,
            display_name="法院联络员",
            scope_region=district,
            department="法院",
            phone=None if User.objects.filter(phone="13800002001").exists() else "13800002001",
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.roles.add(Role.objects.get_or_create(code=RoleCode.DEPARTMENT_HANDLER)[0])
    IssuerGrant.objects.get_or_create(user=user, region=district, defaults={"office": COURT_OFFICE})
    return user


def load_demo(data: Any = None, stdout: Any = None) -> None:
    district = Region.objects.filter(code="350602000000").first()
    street = Region.objects.filter(code="350602001000").first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    cell = (
        GridCell.objects.filter(community__code="350602001001", active=True)
        .order_by("code")
        .first()
    )
    if district is None or street is None or dispatcher is None or cell is None:
        _write(stdout, "assignments: demo city missing; skipped")
        return
    court = _court(district)
    now = timezone.now()
    titles = set(Task.objects.values_list("title", flat=True))
    if SERVICE_TITLE not in titles:
        services.task_issue(
            issuer=court,
            kind_id=TaskKind.objects.get(code="service_of_documents").pk,
            title=SERVICE_TITLE,
            instructions="请于期限内当面送达受送达人，拍摄送达现场照片并请受送达人在手机上签名；"
            "拒收或查无此人的，请注明原因。",
            deadline=now + timedelta(days=5),
            cell_ids=[cell.pk],
            service=services.ServiceInput(
                document_title="民事判决书",
                case_number="(2026)闽0602民初1234号",
                authority=COURT_OFFICE,
                addressee_name="林秀英",
                addressee_phone="13912345678",
                addressee_address="西桥街道西桥社区3栋201",
            ),
        )
    campaign = Campaign.objects.filter(title=CAMPAIGN_TITLE).first()
    if campaign is None:
        campaign = services.campaign_create(
            actor=dispatcher,
            title=CAMPAIGN_TITLE,
            description="排查老旧小区燃气管道、软管老化和违规使用情况。",
            region_id=street.pk,
            deadline=now + timedelta(days=14),
        )
    if VISIT_TITLE not in titles:
        services.task_issue(
            issuer=dispatcher,
            kind_id=TaskKind.objects.get(code="special_screening").pk,
            title=VISIT_TITLE,
            instructions="逐户检查燃气软管、报警器，发现隐患拍照并填写表单。",
            deadline=None,
            campaign_id=campaign.pk,
            community_ids=list(
                Region.objects.filter(parent=street, level="community").values_list("pk", flat=True)
            ),
            requires_photo=True,
            form_fields=[
                {"label": "检查户数", "type": "number", "required": True},
                {"label": "发现隐患", "type": "yes_no", "required": True},
                {
                    "label": "隐患类型",
                    "type": "choice",
                    "choices": ["软管老化", "无报警器", "违规使用"],
                },
            ],
        )
    _write(stdout, f"assignments: demo tasks ready (court liaison login: {COURT_USERNAME})")
