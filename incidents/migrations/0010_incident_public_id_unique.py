"""Incident.public_id, step 3 of 3: required and unique; new incidents draw one at creation
(incidents.models.public_id_new)."""

from django.db import migrations, models

import incidents.models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_incident_public_id_fill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="incident",
            name="public_id",
            field=models.CharField(
                default=incidents.models.public_id_new,
                editable=False,
                max_length=16,
                unique=True,
                verbose_name="public id",
            ),
        ),
    ]
