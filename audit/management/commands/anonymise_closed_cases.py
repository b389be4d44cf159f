from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.retention import anonymise_closed_cases


class Command(BaseCommand):
    help = (
        "Anonymise the personal data of incidents, mediation cases and petitions closed more "
        "than PERSONAL_DATA_RETENTION_DAYS days ago (idempotent; statistics are kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Override the period (default {settings.PERSONAL_DATA_RETENTION_DAYS}).",
        )

    def handle(self, *args, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        counts = anonymise_closed_cases(days=days)
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} anonymised")
