"""Seed the petition content classes (信访内容分类, after the national petition information
system's top-level classes). Configuration data: admins edit them afterwards."""

from django.db import migrations

CATEGORIES = [
    ("01", "城乡建设", "Urban and rural construction"),
    ("02", "农村农业", "Agriculture and rural affairs"),
    ("03", "劳动和社会保障", "Labour and social security"),
    ("04", "自然资源", "Natural resources and land"),
    ("05", "卫生健康", "Health"),
    ("06", "教育", "Education"),
    ("07", "生态环境", "Ecology and environment"),
    ("08", "交通运输", "Transport"),
    ("09", "市场监管", "Market regulation"),
    ("10", "民政", "Civil affairs"),
    ("11", "政法", "Law enforcement and justice"),
    ("12", "纪检监察", "Discipline inspection and supervision"),
    ("13", "组织人事", "Organisation and personnel"),
    ("14", "党务政务", "Party and government affairs"),
    ("15", "经济管理", "Economic management"),
    ("16", "商贸旅游", "Commerce and tourism"),
    ("17", "科技与信息产业", "Science, technology and information"),
    ("99", "其他", "Other"),
]


def seed(apps, schema_editor):
    PetitionCategory = apps.get_model("petitions", "PetitionCategory")
    for code, name, name_en in CATEGORIES:
        PetitionCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en}
        )


def unseed(apps, schema_editor):
    PetitionCategory = apps.get_model("petitions", "PetitionCategory")
    PetitionCategory.objects.filter(
        code__in=[code for code, _name, _en in CATEGORIES], petitions__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("petitions", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
