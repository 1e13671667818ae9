"""Keeps the surge baseline's daily counts honest: an appeal added, moved to another day, merged,
re-addressed or re-classified after its day was counted makes that day stale (``CountedDay``
version bumped), so the next detector run counts it again. Receivers rather than calls in intake:
intake must not depend on this app."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_init, post_save

# What a day's place counts depend on.
WATCHED = ("received_at", "address", "category_id", "merged_into_id")


def _remember(sender, instance, **kwargs) -> None:
    instance._alerts_counted = tuple(instance.__dict__.get(name) for name in WATCHED)


def _past_days(*moments) -> set:
    """The local days of these moments that are over: only those can have been counted (a run
    counts days before its window's start), so an appeal of today costs no statement."""
    from django.utils import timezone

    from .baseline import local_day

    today = timezone.localdate()
    return {day for day in (local_day(m) for m in moments if m is not None) if day < today}


def _saved(sender, instance, created: bool, raw: bool = False, using: str = "default", **kwargs) -> None:
    from .baseline import mark_changed

    before = getattr(instance, "_alerts_counted", None)
    now = tuple(instance.__dict__.get(name) for name in WATCHED)
    if not created and before == now:
        return
    mark_changed(_past_days(now[0], before[0] if before else None), using=using)
    instance._alerts_counted = now


def _deleted(sender, instance, using: str = "default", **kwargs) -> None:
    from .baseline import mark_changed

    mark_changed(_past_days(instance.received_at), using=using)


def _written(sender, appeal_ids, using: str = "default", **kwargs) -> None:
    """Appeals written by bulk SQL (the COPY import): the days they were received on."""
    from django.conf import settings
    from django.db import connections
    from django.db.models.functions import TruncDate

    from intake.models import Appeal

    from .baseline import mark_changed

    if connections[using].vendor == "postgresql":
        # One array parameter: a million-row import must not compile a million placeholders.
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"""SELECT DISTINCT (received_at AT TIME ZONE %s)::date FROM {Appeal._meta.db_table}
                    WHERE id = ANY(%s) AND received_at IS NOT NULL""",
                [settings.TIME_ZONE, list(appeal_ids)],
            )
            days = [row[0] for row in cursor.fetchall()]
    else:
        days = list(
            Appeal.objects.using(using)
            .filter(pk__in=list(appeal_ids), received_at__isnull=False)
            .annotate(day=TruncDate("received_at"))
            .values_list("day", flat=True)
            .distinct()
        )
    mark_changed(days, using=using)


def connect() -> None:
    from intake.models import Appeal
    from intake.signals import appeals_written

    post_init.connect(_remember, sender=Appeal, weak=False, dispatch_uid="alerts-appeal-init")
    post_save.connect(_saved, sender=Appeal, weak=False, dispatch_uid="alerts-appeal-saved")
    post_delete.connect(_deleted, sender=Appeal, weak=False, dispatch_uid="alerts-appeal-deleted")
    appeals_written.connect(_written, weak=False, dispatch_uid="alerts-appeals-written")
