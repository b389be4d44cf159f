"""Incident.public_id, step 1 of 3: the column, empty (security review M3: Open311 shows a
random public id, never the tracking number)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_category_publish_open311"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="public_id",
            field=models.CharField(
                editable=False, max_length=16, null=True, verbose_name="public id"
            ),
        ),
    ]
