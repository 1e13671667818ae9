"""Generate a history of closed appeals for the routing model (docs/routing.md)."""

from django.core.management.base import BaseCommand, CommandError

from routing.history import generate


class Command(BaseCommand):
    help = "Generate N months of closed appeals and orders (templated wording) to train the routing model on."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--per-day", type=int, default=40)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--train", action="store_true", help="train a model right after")

    def handle(self, *args, months: int, per_day: int, seed: int, train: bool, **options):
        try:
            made = generate(months=months, per_day=per_day, seed=seed)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"routing: {made} closed appeals generated over {months} months")
        if train:
            from routing.services import train_model

            run = train_model()
            self.stdout.write(
                f"routing: model v{run.version} {run.status}: unit top-1 {run.unit_top1}, rules {run.rules_unit_top1}"
            )
