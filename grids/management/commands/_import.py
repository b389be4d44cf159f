"""Shared plumbing of the import commands: read the file, print every problem, exit non-zero."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grids.services import ImportResult


class ImportCommand(BaseCommand):
    file_help = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=self.file_help)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )

    def run_import(self, text: str, *, dry_run: bool) -> ImportResult:
        raise NotImplementedError

    def handle(self, *args, path: str, dry_run: bool, **options) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text: {error}") from error
        result = self.run_import(text, dry_run=dry_run)
        if result.problems:
            for problem in result.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(result.problems)} problem(s) in {path}; nothing was written.")
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"{path}: no problems (dry run, nothing written).")
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{path}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        )
