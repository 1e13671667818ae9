"""Load the demo city: units and users, then each app's own demo data, in app order."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from units.app_modules import app_modules


class Command(BaseCommand):
    help = "Load (or refresh) demo data: units, users of every role, categories, appeals, ratings."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load even though DEBUG is off (creates users with the public password demo12345 "
            "and the published demo feed keys: never on a real deployment).",
        )

    def handle(self, *args, **options):
        # The demo creates `admin`/`demo12345` and feed keys printed in the README: on a
        # production database that is an open door, so it takes DEBUG or an explicit flag.
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "Refusing to load the demo with DEBUG off: it creates users with the password "
                "demo12345 and the published demo feed keys. Use DJANGO_DEBUG=1 for development, "
                "or --allow-production if this database really is a throw-away demo."
            )
        for module in app_modules("demo"):
            with transaction.atomic():
                module.load(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data loaded"))
