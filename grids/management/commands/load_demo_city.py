"""Load the demo city: regions, cells, workers, teams and demo users, then the other apps' demo
data through their `<app>.demo.load_demo(data, stdout)` hooks. Running it twice changes nothing."""

import importlib
import importlib.util
import inspect
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grids import demo

DEMO_HOOK_APPS = (
    "accounts",
    "registry",
    "incidents",
    "mediation",
    "petitions",
    "screening",
    "resident_services",
    "volunteers",
    "assignments",
    "deliberation",
    "residents",
    "governance",
    "integrations",
)


class Command(BaseCommand):
    help = "Load the demo city (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", default=None, help="Another demo city JSON (default: grids/fixtures)."
        )

    def handle(self, *args, file: str | None = None, **options) -> None:
        path = Path(file) if file else demo.DEMO_FILE
        try:
            data = demo.load_data(path)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        demo.load_demo(data, self.stdout)
        for app in DEMO_HOOK_APPS:
            module_name = f"{app}.demo"
            if importlib.util.find_spec(app) is None:
                continue
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            loader = getattr(module, "load_demo", None)
            if loader is None:
                self.stderr.write(f"{module_name} has no load_demo(); skipped")
                continue
            # The December apps' loaders need neither the city file nor the output.
            if inspect.signature(loader).parameters:
                loader(data, self.stdout)
            else:
                loader()
        demo.print_logins(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo city loaded."))
