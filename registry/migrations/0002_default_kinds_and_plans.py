"""Default key-person kinds, their visit plans per risk level, access grants and person tags.

Severe mental illness (严重精神障碍患者) follows the national basic public health service
specification (RULES.md): risk grades 0-5, at least four follow-ups a year; grade 0 (stable)
every 3 months, grades 1-2 (basically stable) every month, grades 3-5 (unstable) within 2
weeks. The other kinds are local practice (configuration data): edit them in the admin.
"""

from django.db import migrations

KINDS = [
    # code, name, max level, {level: (label, interval days, warn days)}, granted roles
    (
        "severe_mental",
        "严重精神障碍患者",
        5,
        {
            0: ("0级 无符合以下1-5级中的任何行为", 90, 7),
            1: ("1级 口头威胁，喊叫，但没有打砸行为", 30, 5),
            2: ("2级 打砸行为，局限在家里，能被劝说制止", 30, 5),
            3: ("3级 明显打砸行为，不分场合，不能接受劝说而停止", 14, 3),
            4: ("4级 持续的打砸行为，针对财物或人，不能接受劝说而停止（包括自伤、自杀）", 14, 3),
            5: ("5级 持械针对人的任何暴力行为，或者纵火、爆炸等行为", 14, 3),
        },
        [("police_officer", ""), ("department_handler", "卫生健康")],
    ),
    (
        "community_correction",
        "社区矫正对象",
        2,
        {0: ("低风险", 30, 5), 1: ("中风险", 14, 3), 2: ("高风险", 7, 2)},
        [("police_officer", ""), ("department_handler", "司法行政")],
    ),
    (
        "released_prisoner",
        "刑满释放人员",
        2,
        {0: ("低风险", 90, 7), 1: ("中风险", 30, 5), 2: ("高风险", 14, 3)},
        [("police_officer", ""), ("department_handler", "司法行政")],
    ),
    (
        "drug_user",
        "吸毒人员",
        2,
        {0: ("低风险", 30, 5), 1: ("中风险", 14, 3), 2: ("高风险", 7, 2)},
        [("police_officer", "")],
    ),
    (
        "key_petitioner",
        "重点信访人员",
        2,
        {0: ("低风险", 30, 5), 1: ("中风险", 14, 3), 2: ("高风险", 7, 2)},
        [("petition_officer", "")],
    ),
    (
        "elderly_alone",
        "独居老人（关爱）",
        2,
        {0: ("状况良好", 30, 5), 1: ("需要关注", 14, 3), 2: ("需要帮扶", 7, 2)},
        [],
    ),
]

TAGS = [
    ("elderly_alone", "独居老人"),
    ("disabled", "残疾"),
    ("dibao", "低保"),
    ("veteran", "退役军人"),
    ("left_behind_child", "留守儿童"),
    ("special_hardship", "特困"),
]


def forward(apps, schema_editor):
    Kind = apps.get_model("registry", "KeyPersonKind")
    Plan = apps.get_model("registry", "VisitPlan")
    Grant = apps.get_model("registry", "KeyPersonGrant")
    Tag = apps.get_model("registry", "PersonTag")
    for order, (code, name, max_level, plans, grants) in enumerate(KINDS):
        kind, _ = Kind.objects.get_or_create(
            code=code, defaults={"name": name, "max_risk_level": max_level, "sort_order": order}
        )
        for level, (label, days, warn) in plans.items():
            Plan.objects.get_or_create(
                kind=kind,
                risk_level=level,
                defaults={"label": label, "interval_days": days, "warn_days_before": warn},
            )
        for role, department in grants:
            Grant.objects.get_or_create(kind=kind, role=role, department=department)
    for order, (code, name) in enumerate(TAGS):
        Tag.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
