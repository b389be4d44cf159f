"""Default 附议 radius and 办理公开 flags for the existing categories: no radius for disputes,
internal-only categories and matters about one person or household (those not published on
Open311); results published only for the categories already public on Open311 that are neither
disputes nor internal."""

from django.db import migrations
from django.db.models import Q


def forward(apps, schema_editor):
    Category = apps.get_model("incidents", "Category")
    private = Q(is_dispute=True) | Q(internal_only=True) | Q(publish_open311=False)
    Category.objects.filter(private).update(follow_radius_m=None, publish_results=False)
    Category.objects.exclude(private).update(follow_radius_m=50, publish_results=True)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0013_residents_follow_merge_results")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
