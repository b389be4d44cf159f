"""The default admin-editable lists: proposal categories and meeting participant kinds, and
the policy row."""

from django.db import migrations

CATEGORIES = [
    ("environment", "环境卫生", 10),
    ("facilities", "设施维修与改造", 20),
    ("parking", "停车与交通", 30),
    ("safety", "安全隐患", 40),
    ("elderly_children", "养老托幼", 50),
    ("culture", "文体活动", 60),
    ("property", "物业管理", 70),
    ("other", "其他", 99),
]
KINDS = [
    ("resident_rep", "居民代表", 10),
    ("party_member", "党员", 20),
    ("property_company", "物业", 30),
    ("owners_committee", "业委会", 40),
    ("department", "部门代表", 50),
    ("unit_in_area", "驻区单位", 60),
    ("social_org", "社会组织", 70),
    ("expert", "专家或律师", 80),
]


def load(apps, schema_editor):
    category = apps.get_model("deliberation", "ProposalCategory")
    kind = apps.get_model("deliberation", "ParticipantKind")
    policy = apps.get_model("deliberation", "DeliberationPolicy")
    for code, name, order in CATEGORIES:
        category.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    for code, name, order in KINDS:
        kind.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    policy.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
