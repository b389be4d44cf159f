"""Category.publish_open311: which categories the public Open311 feed shows (security review
M3). Off by default for new categories; on for the ordinary public ones already installed,
off for disputes (10xx), internal-only categories and matters about one person or household
(the same defaults as fixtures/categories.csv's `open311` column)."""

from django.db import migrations, models

# Not published whatever the flags say: disputes (class 10), special groups (13) and errands
# and opinions of one resident (1401, 1402).
UNPUBLISHED_CODES = {
    "10",
    "1001",
    "1002",
    "1003",
    "1004",
    "1005",
    "1006",
    "1007",
    "1202",
    "13",
    "1301",
    "1302",
    "14",
    "1401",
    "1402",
}


def publish_ordinary_categories(apps, schema_editor):
    Category = apps.get_model("incidents", "Category")
    published = (
        Category.objects.filter(is_dispute=False, internal_only=False)
        .exclude(code__in=UNPUBLISHED_CODES)
        .exclude(parent__code__in=UNPUBLISHED_CODES)
        .exclude(parent__is_dispute=True)
        .exclude(parent__internal_only=True)
    )
    published.update(publish_open311=True)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_verifier_state_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="publish_open311",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Show this category and its incidents in the public Open311 feed. Keep it "
                    "off for disputes and matters about one person or household."
                ),
                verbose_name="published on Open311",
            ),
        ),
        migrations.RunPython(publish_ordinary_categories, migrations.RunPython.noop),
    ]
