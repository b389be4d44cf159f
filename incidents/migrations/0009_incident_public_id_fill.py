"""Incident.public_id, step 2 of 3: a fresh random public id for every existing incident."""

import secrets

from django.db import migrations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # incidents.models.PUBLIC_ID_ALPHABET
BATCH = 1000


def _new(taken: set[str]) -> str:
    while True:
        value = "R" + "".join(secrets.choice(ALPHABET) for _position in range(10))
        if value not in taken:
            taken.add(value)
            return value


def fill_public_ids(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    taken = set(
        Incident.objects.exclude(public_id__isnull=True).values_list("public_id", flat=True)
    )
    while True:
        ids = list(
            Incident.objects.filter(public_id__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return
        rows = [Incident(pk=pk, public_id=_new(taken)) for pk in ids]
        Incident.objects.bulk_update(rows, ["public_id"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0008_incident_public_id"),
    ]

    operations = [
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
    ]
