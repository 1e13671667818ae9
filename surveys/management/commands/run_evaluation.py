"""Run the daily evaluation now (what the beat job does every morning)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from surveys.services.records import run_evaluation


class Command(BaseCommand):
    help = "Create the evaluation SMS for the service records of a day (default: the configured delay back)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="service date YYYY-MM-DD (default: today minus SURVEYS_EVALUATION_DELAY_DAYS)"
        )

    def handle(self, *args, **options):
        day = None
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("--date must be YYYY-MM-DD") from exc
        run = run_evaluation(service_date=day, actor=None)
        self.stdout.write(
            f"evaluation run {run.service_date}: {run.records} records, {run.queued} SMS queued, "
            f"{run.skipped} skipped {run.skipped_reasons}"
        )
        if run.window_warning:
            self.stdout.write(self.style.WARNING(run.window_warning))
