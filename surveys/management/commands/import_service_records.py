"""Import service records from a CSV or XLSX file, with a row-by-row report."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from surveys.imports import import_file


class Command(BaseCommand):
    help = "Import service records (CSV/XLSX). Rows already present (same external id) change nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        with path.open("rb") as fileobj:
            try:
                result = import_file(fileobj, filename=path.name)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        for error in result.rejected:
            self.stdout.write(f"row {error['index']}: {error['reason']}")
        self.stdout.write(
            f"created {result.created}, already present {result.existing}, rejected {len(result.rejected)}"
        )
