"""Default kinds, risk factors, rules and colour policies (admins edit them afterwards).

Local practice (RULES.md, "Dispute screening and early warning"): red 重大 (a weapon, or threats
with a group behind them: several departments at once), orange 较大 (threats, a key person,
group involvement: may escalate), yellow 一般 (repeated conflict, a vulnerable party), blue
隐患 (early signs). Follow-up within 1 / 3 / 7 / 15 days; red and orange alert at once.
"""

from django.db import migrations

KINDS = [
    ("family", "婚姻家庭纠纷", "marriage and family", "1002"),
    ("neighbour", "邻里纠纷", "neighbours", "1001"),
    ("land", "土地山林纠纷", "land and forest", "1005"),
    ("housing", "房屋宅基地纠纷", "housing and homesteads", "1005"),
    ("labour", "劳资纠纷", "labour and wages", "1004"),
    ("property", "物业纠纷", "property management", "1003"),
    ("debt", "债务纠纷", "debts", ""),
    ("other", "其他纠纷", "other", ""),
]
FACTORS = [
    ("violence_threat", "扬言报复或威胁使用暴力", "threats of violence"),
    ("weapon", "提及或持有凶器", "a weapon mentioned"),
    ("repeated", "反复发生、多次调处未果", "repeated conflict"),
    ("key_person", "当事人为重点人员", "a party who is a key person"),
    ("group", "涉及群体（多人、聚集）", "group involvement"),
    ("vulnerable", "当事人为弱势群体", "a vulnerable party"),
    ("extreme_words", "有极端言行或轻生念头", "extreme words or thoughts of suicide"),
]
# (name, level, factors that must all be ticked, minimum count)
RULES = [
    ("提及凶器", "red", ["weapon"], 0),
    ("威胁暴力且涉及群体", "red", ["violence_threat", "group"], 0),
    ("三项及以上风险因素", "red", [], 3),
    ("威胁暴力", "orange", ["violence_threat"], 0),
    ("极端言行", "orange", ["extreme_words"], 0),
    ("重点人员", "orange", ["key_person"], 0),
    ("涉及群体", "orange", ["group"], 0),
    ("两项风险因素", "orange", [], 2),
    ("反复发生", "yellow", ["repeated"], 0),
    ("弱势群体", "yellow", ["vulnerable"], 0),
]
POLICIES = [("red", 1, True, 7), ("orange", 3, True, 15), ("yellow", 7, False, 30), ("blue", 15, False, 30)]


def load(apps, schema_editor):
    kind_model = apps.get_model("screening", "DisputeKind")
    factor_model = apps.get_model("screening", "RiskFactor")
    rule_model = apps.get_model("screening", "RiskRule")
    policy_model = apps.get_model("screening", "LevelPolicy")
    for order, (code, name, name_en, category) in enumerate(KINDS):
        kind_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "sort_order": order,
                "mediation_category_code": category,
            },
        )
    factors = {}
    for order, (code, name, name_en) in enumerate(FACTORS):
        factors[code], _ = factor_model.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )
    if not rule_model.objects.exists():
        for order, (name, level, codes, minimum) in enumerate(RULES):
            rule = rule_model.objects.create(
                name=name, level=level, min_factors=minimum, sort_order=order
            )
            rule.factors.set([factors[code] for code in codes])
    for level, days, alerts, visit_days in POLICIES:
        policy_model.objects.get_or_create(
            level=level,
            defaults={"follow_up_days": days, "alerts": alerts, "visit_days": visit_days},
        )


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
