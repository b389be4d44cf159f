from django.db import migrations

ROLE_CODES = [
    "resident", "grid_worker", "dispatcher", "department_handler",
    "mediator", "petition_officer", "supervisor", "admin",
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code in ROLE_CODES:
        Role.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
