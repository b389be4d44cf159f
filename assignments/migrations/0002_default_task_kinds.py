"""The default kinds of task (admin-editable afterwards)."""

from django.db import migrations

KINDS = [
    # code, name, service of documents, warn hours, escalate hours, order
    ("service_of_documents", "司法送达", True, 24, 24, 10),
    ("visit_check", "走访核查", False, 24, 24, 20),
    ("policy_outreach", "政策宣传", False, 48, 48, 30),
    ("special_screening", "专项排查", False, 24, 24, 40),
]


def add_kinds(apps, schema_editor):
    TaskKind = apps.get_model("assignments", "TaskKind")
    for code, name, service, warn, escalate, order in KINDS:
        TaskKind.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "is_service_of_documents": service,
                "warn_hours": warn,
                "escalate_hours": escalate,
                "order": order,
            },
        )


def remove_kinds(apps, schema_editor):
    TaskKind = apps.get_model("assignments", "TaskKind")
    TaskKind.objects.filter(code__in=[k[0] for k in KINDS], tasks__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("assignments", "0001_initial")]

    operations = [migrations.RunPython(add_kinds, remove_kinds)]
