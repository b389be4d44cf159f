"""Default team kinds (the seeds' "2+N" teams) and points rules; both are edited in the admin."""

from decimal import Decimal

from django.db import migrations

TEAM_KINDS = [
    ("patrol", "治安巡防队", 10),
    ("legal_aid", "法律援助队", 20),
    ("volunteer_service", "志愿服务队", 30),
    ("safe_mothers", "平安妈妈", 40),
    ("neighbour_aunties", "厝边阿姨", 50),
    ("other", "其他队伍", 90),
]
POINT_RULES = [
    ("per_hour", Decimal("10")),
    ("per_hazard", Decimal("5")),
    ("per_patrol", Decimal("2")),
    ("per_shift", Decimal("2")),
]


def add(apps, schema_editor):
    TeamKind = apps.get_model("volunteers", "TeamKind")
    PointRule = apps.get_model("volunteers", "PointRule")
    for code, name, order in TEAM_KINDS:
        TeamKind.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    for kind, points in POINT_RULES:
        PointRule.objects.get_or_create(kind=kind, defaults={"points": points})


def remove(apps, schema_editor):
    apps.get_model("volunteers", "TeamKind").objects.filter(
        code__in=[code for code, _name, _order in TEAM_KINDS], teams__isnull=True
    ).delete()
    apps.get_model("volunteers", "PointRule").objects.filter(
        kind__in=[kind for kind, _points in POINT_RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]

    operations = [migrations.RunPython(add, remove)]
