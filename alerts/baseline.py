"""The surge detector's baseline: appeals per place × category × local day, kept in a table.

Counting four weeks of appeals on every run (every 5 minutes) reads ~80 000 rows at province
scale (3 000 appeals a day). Instead each finished local day is counted once into
``PlaceDayCount`` (one day of appeals read, grouped by ``place_key`` and category), and a run reads
only the rows of its candidates: at most ``baseline_days`` rows per candidate place and category.

The baseline period ``[window_start - baseline_days, window_start)`` rarely starts and ends at
midnight: its whole local days come from the table, the two partial days at its ends are counted
from the appeals directly (a time range on ``appeal_received_idx``, the candidates' categories
only), so the figure is exactly the count over the period.

A day is counted again when an appeal of that day changed after it was counted (``CountedDay``
versions, bumped by ``alerts.signals``). Rows of days older than any baseline needs are pruned.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from intake.models import Appeal

from .models import CountedDay, PlaceDayCount
from .places import place_key

Key = tuple[str, int | None]
# Days kept beyond the longest baseline a run asked for (a rule's baseline may be lengthened).
KEEP_EXTRA_DAYS = 7


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight starting ``day``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=_zone())


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, _zone()).date()


def _place_counts(rows: Iterable[tuple[str, int | None]], keys: set[Key] | None = None) -> Counter:
    found: Counter = Counter()
    for address, category_id in rows:
        place = place_key(address)[:100]
        if not place:
            continue
        key = (place, category_id)
        if keys is None or key in keys:
            found[key] += 1
    return found


def _appeals_between(start: dt.datetime, end: dt.datetime):
    return Appeal.objects.filter(received_at__gte=start, received_at__lt=end, merged_into__isnull=True).order_by()


def count_day(day: dt.date) -> int:
    """Count one local day's appeals per place and category into ``PlaceDayCount``.

    Steps: make sure the day's ``CountedDay`` row exists (committed, so changes from now on bump
    its version); read the version; read the day's appeals (one day, ``appeal_received_idx``);
    replace the day's rows and record the version that was counted, in one transaction. A change
    committed meanwhile bumped the version past the one recorded: the day stays stale and is
    counted again by the next run. Returns the number of rows written.
    """
    try:
        with transaction.atomic():
            CountedDay.objects.get_or_create(day=day)
    except IntegrityError:  # created by a concurrent run
        pass
    version = CountedDay.objects.filter(day=day).values_list("version", flat=True).get()
    rows = _appeals_between(day_start(day), day_start(day + dt.timedelta(days=1))).values_list("address", "category_id")
    counts = _place_counts(rows.iterator(chunk_size=5000))
    try:
        with transaction.atomic():
            PlaceDayCount.objects.filter(day=day).delete()
            PlaceDayCount.objects.bulk_create(
                [PlaceDayCount(day=day, place=p, category_id=c, appeals=n) for (p, c), n in counts.items()],
                batch_size=2000,
            )
            CountedDay.objects.filter(day=day).update(counted_version=version, counted_at=timezone.now())
    except IntegrityError:
        # A run overlapping this one counted the same day first (its rows hit the unique
        # constraint): those counts stand, and the version they recorded says whether to recount.
        return 0
    return len(counts)


def ensure_counted(first: dt.date, until: dt.date) -> int:
    """Count every day of [first, until) that was never counted or changed since. Returns how many."""
    if until <= first:
        return 0
    done = {
        row.day: row
        for row in CountedDay.objects.filter(day__gte=first, day__lt=until).only("day", "version", "counted_version")
    }
    counted = 0
    day = first
    while day < until:
        row = done.get(day)
        if row is None or row.is_stale:
            count_day(day)
            counted += 1
        day += dt.timedelta(days=1)
    return counted


def baseline_counts(keys: set[Key], *, start: dt.datetime, end: dt.datetime) -> Counter:
    """Appeals per (place, category) of ``keys`` received in [start, end), merged ones left out.

    Whole local days from ``PlaceDayCount`` (counted first if needed); the partial first and last
    days from the appeals of those hours, of the keys' categories only.
    """
    if not keys or end <= start:
        return Counter()
    first_full = local_day(start)
    if day_start(first_full) < start:
        first_full += dt.timedelta(days=1)
    last_day = local_day(end)  # the day ``end`` falls in: counted up to ``end`` only
    found: Counter = Counter()
    categories = {c for _p, c in keys}
    same_category = Q(category_id__in=[c for c in categories if c])
    if None in categories:
        same_category |= Q(category__isnull=True)

    def partial(a: dt.datetime, b: dt.datetime) -> None:
        if a < b:
            rows = _appeals_between(a, b).filter(same_category).values_list("address", "category_id")
            found.update(_place_counts(rows.iterator(chunk_size=2000), keys))

    if first_full >= last_day:  # the period lies within one or two local days: no whole day
        partial(start, end)
        return found
    partial(start, day_start(first_full))
    partial(day_start(last_day), end)
    ensure_counted(first_full, last_day)
    places = {p for p, _c in keys}
    category_filter = Q(category_id__in=[c for c in categories if c])
    if None in categories:
        category_filter |= Q(category_id__isnull=True)
    stored = PlaceDayCount.objects.filter(
        category_filter, place__in=places, day__gte=first_full, day__lt=last_day
    ).values_list("place", "category_id", "appeals")
    for place, category_id, n in stored:
        if (place, category_id) in keys:
            found[(place, category_id)] += n
    return found


def prune(*, before: dt.date) -> int:
    """Drop the counts of days before ``before`` (no baseline reaches back that far)."""
    deleted, _ = PlaceDayCount.objects.filter(day__lt=before).delete()
    CountedDay.objects.filter(day__lt=before).delete()
    return deleted


def mark_changed(days: Iterable[dt.date], *, using: str = "default") -> None:
    """An appeal of these days was added, moved, merged or re-classified: their counts are stale.

    Only days already counted have a row; any other day is counted fresh when a baseline needs it.
    """
    from django.db.models import F

    days = sorted(set(days))
    if days:
        CountedDay.objects.using(using).filter(day__in=days).update(version=F("version") + 1)
