"""Print what a person needs to try the running portal: its URL, the demo logins and the lines
demo loaders left in var/demo_banner.txt (see core.banner). `make run` calls it."""

from django.core.management.base import BaseCommand, CommandParser

from core.banner import demo_banner_lines


class Command(BaseCommand):
    help = "Print the portal URL, the demo logins and the demo banner lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url: str, **options) -> None:
        from accounts.models import User

        self.stdout.write(self.style.SUCCESS(f"GridGov is running at {url}"))
        self.stdout.write(
            f"  API docs: {url.rstrip('/')}/api/v1/docs/   health: {url.rstrip('/')}/healthz"
        )
        try:
            from grids.demo import DEMO_USERS, print_logins
        except ImportError:
            DEMO_USERS, print_logins = [], None
        if (
            print_logins
            and User.objects.filter(username__in=[u.username for u in DEMO_USERS]).exists()
        ):
            print_logins(self.stdout)
        else:
            self.stdout.write("No demo users yet: run `make setup` (manage.py load_demo_city).")
        for line in demo_banner_lines():
            self.stdout.write(f"  {line}")
        self.stdout.write("Press Ctrl-C to stop the web server, the worker and beat.")
