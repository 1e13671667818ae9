"""Re-encrypt citizens' phone numbers with the newest key (and, with --rehash, re-hash them).

Rotation: put the new Fernet key first in PHONE_ENCRYPTION_KEYS (keep the old one after it), run
this command, then drop the old key. A new PHONE_HASH_KEY needs --rehash, since the look-up hash
of every number changes. Works in batches by id; safe to interrupt and run again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from intake.models import Appeal
from intake.phones import phone_hash


class Command(BaseCommand):
    help = "Re-encrypt citizens' phone numbers with the newest key; --rehash also recomputes the look-up hash."

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="recompute the keyed look-up hash too")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, rehash: bool = False, batch: int = 500, **options):
        done, last = 0, 0
        while True:
            ids = list(
                Appeal.objects.filter(pk__gt=last)
                .exclude(citizen_phone="")
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            with transaction.atomic():
                for appeal in Appeal.objects.filter(pk__in=ids).select_for_update().only("pk", "citizen_phone"):
                    fields = {"citizen_phone": appeal.citizen_phone}
                    if rehash:
                        fields["citizen_phone_hash"] = phone_hash(appeal.citizen_phone)
                    # update(), not save(): nothing else about the appeal changes.
                    Appeal.objects.filter(pk=appeal.pk).update(**fields)
                    done += 1
            last = ids[-1]
        self.stdout.write(f"re-encrypted {done} phone numbers" + (" and re-hashed them" if rehash else ""))
