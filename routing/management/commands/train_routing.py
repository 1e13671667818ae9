"""Train the routing model now (what the nightly job does)."""

from django.core.management.base import BaseCommand

from routing.services import train_model


class Command(BaseCommand):
    help = "Train the routing model on closed orders, evaluate it on the last month, keep it if not worse."

    def handle(self, *args, **options):
        run = train_model()
        self.stdout.write(
            f"v{run.version} {run.status}: {run.train_rows} train / {run.test_rows} test rows, "
            f"unit top-1 {run.unit_top1} top-3 {run.unit_top3}, category top-1 {run.category_top1}, "
            f"rules {run.rules_unit_top1}, {run.seconds}s {run.note}"
        )
