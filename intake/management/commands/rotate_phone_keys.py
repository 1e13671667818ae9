"""Re-encrypt citizens' phone numbers with the newest key (and, with --rehash, re-hash them).

Rotation: put the new Fernet key first in PHONE_ENCRYPTION_KEYS (keep the old one after it), run
this command, then drop the old key. A new PHONE_HASH_KEY needs --rehash, since the look-up hash
of every number changes. Works in batches by id; safe to interrupt and run again.

Every column that holds a number is covered — each ``EncryptedPhoneField`` of every installed
model (appeals, service records, SMS in and out, ratings, opt-outs, survey invitations…), with
its ``<field>_hash`` look-up column beside it. A rating by SMS keeps no number of its own but the
hash of its SMS's number: with --rehash it is copied again from that SMS once the SMS are done.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.db.models import OuterRef, Subquery

from intake.phones import EncryptedPhoneField, phone_hash


def phone_columns() -> list[tuple[type[models.Model], str, str | None]]:
    """(model, encrypted field, its hash field or None) for every encrypted phone column."""
    found = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields}
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedPhoneField):
                found.append((model, f.name, f"{f.name}_hash" if f"{f.name}_hash" in names else None))
    return found


class Command(BaseCommand):
    help = "Re-encrypt citizens' phone numbers with the newest key; --rehash also recomputes the look-up hash."

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="recompute the keyed look-up hash too")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, rehash: bool = False, batch: int = 500, **options):
        total = 0
        for model, field, hash_field in phone_columns():
            done = self.rotate(model, field, hash_field if rehash else None, batch)
            total += done
            self.stdout.write(f"{model._meta.label}.{field}: {done}")
        if rehash:
            self.copy_rating_hashes()
        self.stdout.write(f"re-encrypted {total} phone numbers" + (" and re-hashed them" if rehash else ""))

    def rotate(self, model, field: str, hash_field: str | None, batch: int) -> int:
        done, last = 0, 0
        while True:
            ids = list(
                model._base_manager.filter(pk__gt=last)
                .exclude(**{field: ""})
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return done
            with transaction.atomic():
                for row in model._base_manager.filter(pk__in=ids).select_for_update().only("pk", field):
                    number = getattr(row, field)
                    fields = {field: number}  # written back: encrypted with the newest key
                    if hash_field:
                        fields[hash_field] = phone_hash(number)
                    # update(), not save(): nothing else about the row changes (and audit-like rows
                    # refuse save()).
                    model._base_manager.filter(pk=row.pk).update(**fields)
                    done += 1
            last = ids[-1]

    def copy_rating_hashes(self) -> None:
        """Ratings by SMS carry the hash of their SMS's number (they keep no number themselves)."""
        try:
            rating = apps.get_model("surveys", "Rating")
            sms = apps.get_model("sms", "OutboundSms")
        except LookupError:
            return
        rating._base_manager.filter(phone="", sms__isnull=False).update(
            phone_hash=Subquery(sms._base_manager.filter(pk=OuterRef("sms_id")).values("phone_hash")[:1])
        )
