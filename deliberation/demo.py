"""Demo data of deliberation, through the services (events and counters are real): a proposal
collecting supports, one accepted and decided at a held meeting with a decision under way, and a
participatory budget round collecting projects. Needs the demo city (`dispatcher` of street
西桥, `resident`); the demo resident gets a verified phone and 西桥社区 as home. Idempotent: a
demo proposal or round whose title is already there is skipped. No new roles, no new logins.
The lead wires `load_demo()` into the demo command."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from deliberation import services
from deliberation.models import (
    BudgetRound,
    Meeting,
    ParticipantKind,
    Proposal,
    ProposalCategory,
)
from grids.models import Region

COMMUNITY = "350602001001"
STREET = "350602001000"
TITLE_OPEN = "小区东门加装路灯"
TITLE_DECIDED = "3号楼前增设电动车充电棚"
ROUND_TITLE = "2027年西桥街道参与式预算"


def load_demo() -> None:
    staff = User.objects.filter(username="dispatcher").first()
    resident = User.objects.filter(username="resident").first()
    community = Region.objects.filter(code=COMMUNITY).first()
    street = Region.objects.filter(code=STREET).first()
    if staff is None or resident is None or community is None or street is None:
        return
    if resident.home_region_id is None or resident.phone_verified_at is None:
        resident.home_region = resident.home_region or community
        resident.phone_verified_at = resident.phone_verified_at or timezone.now()
        resident.save(update_fields=["home_region", "phone_verified_at"])
    category = ProposalCategory.objects.filter(active=True).first()
    kind = ParticipantKind.objects.filter(active=True).first()
    titles = set(Proposal.objects.values_list("title", flat=True))
    now = timezone.now()
    with transaction.atomic():
        if TITLE_OPEN not in titles:
            services.proposal_submit(
                actor=resident,
                title=TITLE_OPEN,
                description="东门到3号楼一段晚上没有路灯，老人孩子出行不便。",
                category=category,
                lat=24.505,
                lng=117.605,
                address="西桥社区东门",
            )
        if TITLE_DECIDED not in titles:
            proposal = services.proposal_submit(
                actor=resident,
                title=TITLE_DECIDED,
                description="电动车在楼道充电有火灾隐患，希望在3号楼前建充电棚。",
                category=category,
            )
            services.proposal_review(proposal_id=proposal.pk, actor=staff, decision="accept")
            meeting = services.meeting_plan(
                actor=staff,
                community=community,
                title="电动车充电棚协商议事会",
                place="西桥社区党群服务中心",
                starts_at=now + timedelta(days=5),
                agenda="一、选址；二、费用分担；三、管理方式",
                topic_ids=[proposal.pk],
            )
            if kind is not None:
                services.meeting_participant_add(
                    meeting_id=meeting.pk, actor=staff, kind=kind, name="李居民"
                )
            services.meeting_notice_publish(meeting_id=meeting.pk, actor=staff)
            # The meeting took place: its time moves into the past for the minutes.
            Meeting.objects.filter(pk=meeting.pk).update(starts_at=now - timedelta(hours=2))
            services.meeting_minutes_record(
                meeting_id=meeting.pk,
                actor=staff,
                minutes="与会各方同意在3号楼前空地建设充电棚，费用由维修基金列支。",
                options_discussed="方案一：3号楼前空地；方案二：小区北门车棚改造。",
            )
            decision = services.meeting_decide(
                meeting_id=meeting.pk,
                actor=staff,
                text="在3号楼前建设电动车充电棚（20个充电位）",
                carried_by="物业公司",
                due_date=(now + timedelta(days=30)).date(),
                proposal_id=proposal.pk,
            )
            services.decision_progress(
                decision_id=decision.pk, actor=staff, note="已完成选址和报价。"
            )
        if not BudgetRound.objects.filter(title=ROUND_TITLE).exists():
            budget_round = services.round_create(
                actor=staff,
                region=street,
                title=ROUND_TITLE,
                total=Decimal("300000"),
                rule="votes",
                votes_per_voter=3,
                collect_opens_at=now - timedelta(days=1),
                collect_closes_at=now + timedelta(days=14),
                review_closes_at=now + timedelta(days=21),
                vote_opens_at=now + timedelta(days=21),
                vote_closes_at=now + timedelta(days=35),
                description="街道微更新项目，由居民提出、居民投票决定。",
            )
            services.round_advance(round_id=budget_round.pk, actor=staff)
            services.project_submit(
                round_id=budget_round.pk,
                actor=resident,
                title="西桥口袋公园改造",
                description="把闲置空地改造成有座椅和绿化的口袋公园。",
                estimated_cost=Decimal("120000"),
            )
