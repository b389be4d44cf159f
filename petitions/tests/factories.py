"""Builders for petitions tests (plain functions, explicit)."""

from datetime import datetime

from grids.models import Region
from petitions import services
from petitions.models import Petition, PetitionCategory, PetitionChannel, PetitionKind
from tests.builders import make_user

# Valid resident ID numbers (checksums right).
ID_A = "350602199001011235"
ID_B = "350602198505051236"
ID_C = "110101199003078515"
ID_D = "350602197808084567"


def category(code: str = "01") -> PetitionCategory:
    return PetitionCategory.objects.get(code=code)


def officer(username: str = "officer", *, region: Region, **kwargs):
    return make_user(username, roles=["petition_officer"], region=region, **kwargs)


def supervisor(username: str = "head", *, region: Region, **kwargs):
    return make_user(username, roles=["supervisor"], region=region, **kwargs)


def resident(username: str = "resident", *, phone: str = "13800000001", **kwargs):
    return make_user(username, roles=["resident"], phone=phone, **kwargs)


def person(
    name: str = "张三",
    *,
    id_number: str = ID_A,
    phone: str = "13900000001",
    address: str = "西桥社区1号",
    is_representative: bool = True,
) -> services.PetitionerInput:
    return services.PetitionerInput(
        name=name,
        id_number=id_number,
        phone=phone,
        address=address,
        is_representative=is_representative,
    )


def file_letter(
    actor,
    *,
    region: Region,
    matter: str = "小区楼下餐馆油烟扰民",
    request: str = "请求责令餐馆安装油烟净化设备",
    people=None,
    cat: PetitionCategory | None = None,
    channel: str = PetitionChannel.LETTER,
    kind: str = PetitionKind.REQUEST,
    received_at: datetime | None = None,
    **kwargs,
) -> Petition:
    return services.petition_file(
        actor=actor,
        channel=channel,
        kind=kind,
        matter=matter,
        request=request,
        facts_and_reasons="油烟直排，居民多次反映无果。",
        category=cat or category("07"),
        region=region,
        petitioners=people if people is not None else [person()],
        received_at=received_at,
        **kwargs,
    )


def file_web(
    user,
    *,
    region: Region,
    matter: str = "小区楼下餐馆油烟扰民",
    request: str = "请求责令餐馆安装油烟净化设备",
    id_number: str = ID_A,
    cat: PetitionCategory | None = None,
) -> Petition:
    return services.petition_file(
        actor=user,
        channel=PetitionChannel.WEB,
        kind=PetitionKind.REQUEST,
        matter=matter,
        request=request,
        facts_and_reasons="油烟直排，居民多次反映无果。",
        category=cat or category("07"),
        region=region,
        petitioners=[person(id_number=id_number, phone="")],
    )


def opinion(outcome: str = "support", *, delivery: str = "in_person") -> services.OpinionInput:
    """A complete written opinion; by default handed over in person when issued (received
    that day, so the Art. 35/36 windows run from the issue)."""
    return services.OpinionInput(
        request="请求责令餐馆安装油烟净化设备",
        facts_and_reasons="经现场核查，餐馆油烟直排属实。",
        decision="责令餐馆十五日内安装油烟净化设备。",
        legal_basis="《中华人民共和国大气污染防治法》第八十一条",
        outcome=outcome,
        unit="芗城区信访局",
        delivery_manner=delivery,
    )
