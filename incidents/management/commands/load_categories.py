from django.core.management.base import BaseCommand

from incidents.loaders import load_calendar, load_categories


class Command(BaseCommand):
    help = (
        "Load incident categories from incidents/fixtures/categories.csv (idempotent: missing "
        "ones are created; --update resets existing ones to the file) and, with --calendar, "
        "the 2026-2027 public holidays and make-up workdays."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--update", action="store_true", help="overwrite admin edits with the file"
        )
        parser.add_argument(
            "--calendar", action="store_true", help="also load the working calendar"
        )

    def handle(self, *args, update: bool = False, calendar: bool = False, **options):
        result = load_categories(update=update)
        self.stdout.write(
            f"categories: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )
        if calendar:
            days = load_calendar()
            self.stdout.write(f"calendar days: {days.created} created, {days.unchanged} kept")
