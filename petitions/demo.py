"""Demo petitions in various states, created through the services (so deadlines, events and
merges are real). Called by `manage.py load_demo_city` after the demo users exist. Idempotent:
a demo petition whose matter is already there is skipped."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from grids.models import Region
from petitions import services
from petitions.models import Petition, PetitionCategory, PetitionChannel, PetitionKind

# Fictitious but valid (checksums right) ID numbers.
DEMO_IDS = {
    "resident": "350602199001011235",
    "wage": "350602198505051236",
    "land1": "350602197808084567",
    "land2": "350602200002290024",
}
MATTER_FUMES = "楼下餐馆油烟直排扰民"
MATTER_WAGES = "建筑工地拖欠农民工工资"
MATTER_LAND = "石亭村征地补偿款未足额发放"
MATTER_NOISE = "夜间施工噪声扰民"


def _opinion(request: str, decision: str, basis: str, outcome: str) -> services.OpinionInput:
    return services.OpinionInput(
        request=request,
        facts_and_reasons="经调查核实，反映情况基本属实。",
        decision=decision,
        legal_basis=basis,
        outcome=outcome,
        unit="芗城区信访局",
    )


def load_demo(data: dict[str, Any], stdout) -> None:
    officer = User.objects.filter(username="petition").first()
    resident = User.objects.filter(username="resident").first()
    if officer is None or resident is None:
        stdout.write("petitions: demo users missing; skipped")
        return
    regions = {r.code: r for r in Region.objects.filter(code__startswith="3506")}
    categories = {c.code: c for c in PetitionCategory.objects.all()}
    created = 0
    existing = set(Petition.objects.values_list("matter", flat=True))

    def region(code: str) -> Region | None:
        return regions.get(code)

    with transaction.atomic():
        # 1. Online, by the demo resident: accepted and being handled; then raised again
        #    (merged: file once).
        if MATTER_FUMES not in existing and region("350602001001"):
            petition = services.petition_file(
                actor=resident,
                channel=PetitionChannel.WEB,
                kind=PetitionKind.REQUEST,
                matter=MATTER_FUMES,
                request="请求责令餐馆安装油烟净化设备并整改排烟口",
                facts_and_reasons="餐馆排烟口正对居民窗户，油烟直排已持续半年，多次反映未果。",
                category=categories["07"],
                region=region("350602001001"),
                petitioners=[
                    services.PetitionerInput(
                        name=resident.display_name or "居民",
                        id_number=DEMO_IDS["resident"],
                        phone=resident.phone or "",
                        address="西桥社区新华西路12号",
                    )
                ],
            )
            services.petition_accept(actor=officer, petition_id=petition.pk)
            services.petition_start_handling(actor=officer, petition_id=petition.pk)
            services.petition_file(
                actor=resident,
                channel=PetitionChannel.WEB,
                kind=PetitionKind.REQUEST,
                matter="楼下餐馆油烟扰民，至今未整改",
                request="请求责令餐馆安装油烟净化设备",
                facts_and_reasons="上次反映后仍未整改。",
                category=categories["07"],
                region=region("350602001001"),
                petitioners=[
                    services.PetitionerInput(
                        name=resident.display_name or "居民",
                        id_number=DEMO_IDS["resident"],
                        phone=resident.phone or "",
                        address="西桥社区新华西路12号",
                    )
                ],
            )
            created += 2

        # 2. A letter received 20 days ago and not yet decided: overdue after the sweep.
        if MATTER_WAGES not in existing and region("350602002001"):
            services.petition_file(
                actor=officer,
                channel=PetitionChannel.LETTER,
                kind=PetitionKind.REQUEST,
                matter=MATTER_WAGES,
                request="请求督促施工单位支付拖欠的三个月工资",
                facts_and_reasons="本人在东铺头社区某工地务工，施工单位拖欠工资共计一万八千元。",
                category=categories["03"],
                region=region("350602002001"),
                petitioners=[
                    services.PetitionerInput(
                        name="李建国",
                        id_number=DEMO_IDS["wage"],
                        phone="0596-2345678",
                        address="东铺头社区胜利东路8号",
                    )
                ],
                received_at=timezone.now() - timedelta(days=20),
            )
            created += 1

        # 3. A joint visit (two representatives for 23 villagers): replied.
        if MATTER_LAND not in existing and region("350602101201"):
            petition = services.petition_file(
                actor=officer,
                channel=PetitionChannel.VISIT,
                kind=PetitionKind.REQUEST,
                matter=MATTER_LAND,
                request="请求足额发放征地补偿款",
                facts_and_reasons="2025年道路建设征收村集体土地，部分补偿款至今未发放到户。",
                category=categories["04"],
                region=region("350602101201"),
                is_joint=True,
                headcount=23,
                petitioners=[
                    services.PetitionerInput(
                        name="王福生",
                        id_number=DEMO_IDS["land1"],
                        phone="13800000011",
                        address="石亭村3组",
                    ),
                    services.PetitionerInput(
                        name="陈玉兰",
                        id_number=DEMO_IDS["land2"],
                        phone="13800000012",
                        address="石亭村5组",
                    ),
                ],
            )
            services.petition_accept(
                actor=officer, petition_id=petition.pk, handling_unit="石亭镇人民政府"
            )
            services.petition_reply(
                actor=officer,
                petition_id=petition.pk,
                opinion=_opinion(
                    "请求足额发放征地补偿款",
                    "责成石亭镇人民政府于30日内将剩余补偿款发放到户。",
                    "《中华人民共和国土地管理法》第四十八条",
                    "support",
                ),
            )
            created += 1

        # 4. A phone call just received.
        if MATTER_NOISE not in existing and region("350602001003"):
            services.petition_file(
                actor=officer,
                channel=PetitionChannel.PHONE,
                kind=PetitionKind.ACCUSATION,
                matter=MATTER_NOISE,
                request="请求查处夜间违规施工",
                facts_and_reasons="古城社区某工地连续一周在夜间十一点后施工。",
                category=categories["01"],
                region=region("350602001003"),
                petitioners=[
                    services.PetitionerInput(
                        name="周美华", phone="13800000013", address="古城社区香港路5号"
                    )
                ],
            )
            created += 1
    services.petitions_sweep_deadlines()
    stdout.write(f"petitions: {created} demo petitions created")
