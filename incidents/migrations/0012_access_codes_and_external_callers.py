"""Existing incidents get a random access code, stored hashed (nobody knows it: the reporters
ask for a new one by SMS, "resend my code"), and their external_id's caller: the user who filed
it (the report event's actor), "" for a partner or the system."""

from django.db import migrations

BATCH = 2000


def forward(apps, schema_editor):
    from incidents.tracking import access_code_hash, access_code_new

    Incident = apps.get_model("incidents", "Incident")
    IncidentEvent = apps.get_model("incidents", "IncidentEvent")
    pending = Incident.objects.filter(access_code_hash="").order_by("pk")
    while True:
        rows = list(pending.only("pk")[:BATCH])
        if not rows:
            break
        for row in rows:
            row.access_code_hash = access_code_hash(access_code_new())
        Incident.objects.bulk_update(rows, ["access_code_hash"])
    reporters = dict(
        IncidentEvent.objects.filter(action="report", actor__isnull=False)
        .exclude(incident__external_id="")
        .values_list("incident_id", "actor_id")
    )
    rows = list(Incident.objects.exclude(external_id="").filter(pk__in=list(reporters)).only("pk"))
    for row in rows:
        row.external_caller = f"u{reporters[row.pk]}"
    Incident.objects.bulk_update(rows, ["external_caller"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0011_tracking_code_caller_key_policy")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
