"""Bring the KPI fact table up to date: incidents with timeline events since the last run, or
every incident with --full (first deployment, after bulk imports or manual database edits)."""

from django.core.management.base import BaseCommand

from governance.aggregates import incident_facts_rebuild, incident_facts_refresh_recent


class Command(BaseCommand):
    help = "Refresh the KPI facts (governance.IncidentFact) from the incidents and their timeline."

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true", help="rebuild the facts of every incident"
        )

    def handle(self, *args, **options):
        written = incident_facts_rebuild() if options["full"] else incident_facts_refresh_recent()
        self.stdout.write(f"KPI facts refreshed for {written} incidents.")
