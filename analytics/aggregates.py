"""Daily aggregates: the figures of SPEC §9 kept as additive counts per local day and unit.

Why: computing a month, a quarter or a year from the source tables reads history (seconds to tens
of seconds at a province's size). Instead every figure is a sum over small rows:

- ``UnitDayFigures``: the facts owned by exactly one unit on one day (one row per active bucket);
- ``TreeDayFigures``: the same counts summed over each unit's subtree (and over the whole city,
  node None), so "this bureau, this year" is at most 366 rows read by one index range;
- ``TreeMonthFigures``: a subtree's calendar month, the sum of its day rows, rewritten with them:
  a period is read as its whole months plus the days around them, so a month of every station
  (a ranking's station tier) is one row per station, a year of a bureau twelve rows.

Maintenance (ARCHITECTURE rule 7, PostgreSQL holds the intent):

1. a fact changes → the analytics signal handlers (``analytics.signals``) insert an
   ``AggregateMark`` for each (day, unit) bucket it touches, old and new, in the fact's
   transaction (append-only rows: no fact waits on another's mark);
2. ``refresh_marked`` (beat job every minute) reads the marks, recomputes each marked bucket from
   its source rows (bounded by one day and a few units) after that read, rebuilds the subtree rows
   of the days touched, and deletes exactly the mark rows it read;
3. ``refresh_days`` (nightly for the last days, and ``manage.py rebuild_aggregates``) recomputes
   whole days, whatever was marked.

The live computation (``analytics.metrics``) stays the reference: the tests hold both equal.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from units.models import Unit

from .metrics import UnitMetrics, basic_weight
from .models import AggregateMark, TreeDayFigures, TreeMonthFigures, UnitDayFigures
from .periods import Period, month_of

INT_FIELDS = (
    "satisfied",
    "basic",
    "dissatisfied",
    "declined",
    "due",
    "due_closed",
    "closed",
    "closed_on_time",
    "appeals",
    "repeat",
    "escalations_first",
    "sms_delivered",
    "sms_replied",
)
JSON_FIELDS = ("resolved_by", "escalations_after", "channels", "severities", "categories")
ALL_FIELDS = INT_FIELDS + JSON_FIELDS

# Namespaces of the advisory locks that keep one recomputation of a day (and of a month's rows)
# at a time.
_LOCK_SPACE = 0x616E61  # "ana"
_MONTH_LOCK_SPACE = 0x616E6D  # "anm"


def local_day(when: dt.datetime) -> dt.date:
    return timezone.localtime(when, timezone.get_default_timezone()).date()


@dataclass
class Bucket:
    """The additive counts of one unit (or subtree) on one day."""

    ints: Counter = field(default_factory=Counter)
    maps: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, other: Bucket) -> None:
        self.ints.update(other.ints)
        for name, counter in other.maps.items():
            self.maps[name].update(counter)

    def add_row(self, row: dict) -> None:
        for name in INT_FIELDS:
            if row[name]:
                self.ints[name] += row[name]
        for name in JSON_FIELDS:
            if row[name]:
                self.maps[name].update(row[name])

    def is_empty(self) -> bool:
        return not any(self.ints.values()) and not any(any(c.values()) for c in self.maps.values())

    def as_fields(self) -> dict:
        out = {name: self.ints.get(name, 0) for name in INT_FIELDS}
        for name in JSON_FIELDS:
            out[name] = {k: v for k, v in sorted(self.maps.get(name, Counter()).items()) if v}
        return out


# --- Computing a day from the source tables ---------------------------------------------------


def _unit_q(lookup: str, unit_ids: set | None) -> Q:
    """Facts of these units (None in the set: facts without a unit); everything when unit_ids is None."""
    if unit_ids is None:
        return Q()
    ids = [u for u in unit_ids if u is not None]
    q = Q(**{f"{lookup}__in": ids}) if ids else Q(pk__in=[])
    if None in unit_ids:
        q |= Q(**{f"{lookup}__isnull": True})
    return q


def _in_chunks(ids: list, size: int = 5000):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def compute_range(
    first: dt.date, until: dt.date, unit_ids: set | None = None
) -> dict[dt.date, dict[int | None, Bucket]]:
    """The buckets of every local day of [first, until) from the source tables, for the given
    owning units (all when None): one grouped query per source table over the whole range
    (``GROUP BY`` local day, unit, …), each bounded by the range on an indexed time column, plus
    the escalation histories of the appeals escalated in the range. ``compute_day`` is the one-day
    case, so the minute job and a rebuild count alike."""
    from intake.choices import Channel
    from intake.models import Appeal
    from sms.choices import SmsPurpose, SmsStatus
    from sms.models import InboundSms, OutboundSms
    from surveys.choices import Verdict
    from surveys.models import Rating
    from workorders.choices import Action, WorkOrderStatus
    from workorders.models import WorkOrder, WorkOrderEvent

    period = Period(first, until)
    start, end = period.start, period.end
    tz = timezone.get_default_timezone()

    def local(name: str) -> TruncDate:
        return TruncDate(name, tzinfo=tz)

    out: dict[dt.date, dict[int | None, Bucket]] = defaultdict(lambda: defaultdict(Bucket))
    verdict_field = {
        Verdict.SATISFIED: "satisfied",
        Verdict.BASIC: "basic",
        Verdict.DISSATISFIED: "dissatisfied",
        Verdict.DECLINED: "declined",
    }

    # Ratings, split by the verdict of their callback once it is closed (resolution).
    for row in (
        Rating.objects.filter(_unit_q("unit_id", unit_ids), rated_at__gte=start, rated_at__lt=end)
        .annotate(
            d=local("rated_at"),
            cv=Case(
                When(callback__closed_at__isnull=False, then=F("callback__verdict")),
                default=Value(""),
            ),
        )
        .values("d", "unit_id", "verdict", "cv")
        .annotate(n=Count("id"))
        .order_by()
    ):
        b = out[row["d"]][row["unit_id"]]
        name = verdict_field.get(row["verdict"])
        if name:
            b.ints[name] += row["n"]
        if row["verdict"] == Verdict.DISSATISFIED and row["cv"]:
            b.maps["resolved_by"][row["cv"]] += row["n"]

    # Work orders count on the day they fall due and, once closed, on the day they were closed.
    orders = WorkOrder.objects.filter(_unit_q("unit_id", unit_ids)).exclude(status=WorkOrderStatus.HANDED_BACK)
    for row in (
        orders.filter(due_at__gte=start, due_at__lt=end)
        .annotate(d=local("due_at"))
        .values("d", "unit_id")
        .annotate(due=Count("id"), due_closed=Count("id", filter=Q(status=WorkOrderStatus.CLOSED)))
        .order_by()
    ):
        b = out[row.pop("d")][row.pop("unit_id")]
        for name, n in row.items():
            if n:
                b.ints[name] += n
    for row in (
        orders.filter(status=WorkOrderStatus.CLOSED, closed_at__gte=start, closed_at__lt=end)
        .annotate(d=local("closed_at"))
        .values("d", "unit_id")
        .annotate(closed=Count("id"), closed_on_time=Count("id", filter=Q(closed_on_time=True)))
        .order_by()
    ):
        b = out[row.pop("d")][row.pop("unit_id")]
        for name, n in row.items():
            if n:
                b.ints[name] += n

    for row in (
        Appeal.objects.filter(_unit_q("unit_id", unit_ids), received_at__gte=start, received_at__lt=end)
        .annotate(d=local("received_at"))
        .values("d", "unit_id", "channel", "severity", "category_id", "is_repeat")
        .annotate(n=Count("id"))
        .order_by()
    ):
        b = out[row["d"]][row["unit_id"]]
        b.ints["appeals"] += row["n"]
        if row["is_repeat"]:
            b.ints["repeat"] += row["n"]
        b.maps["channels"][row["channel"]] += row["n"]
        b.maps["severities"][row["severity"]] += row["n"]
        b.maps["categories"][str(row["category_id"] or "")] += row["n"]

    # Escalations: appeals from the 12389 hotline received on a day, and appeals reopened on a day.
    # Each counts once on that day by the day of its previous escalation (none: its first), see
    # DayFigures; so the history of every appeal escalated in the range is read, up to its end.
    escalated = set(
        Appeal.objects.filter(
            _unit_q("unit_id", unit_ids), channel=Channel.FEED_12389, received_at__gte=start, received_at__lt=end
        ).values_list("id", flat=True)
    )
    escalated |= set(
        WorkOrderEvent.objects.filter(
            _unit_q("order__appeal__unit_id", unit_ids),
            action=Action.REOPEN,
            created_at__gte=start,
            created_at__lt=end,
        ).values_list("order__appeal_id", flat=True)
    )
    days: dict[int, set[dt.date]] = defaultdict(set)
    owner: dict[int, int | None] = {}
    for ids in _in_chunks(sorted(escalated)):
        for pk, unit_id, channel, received_at in Appeal.objects.filter(pk__in=ids).values_list(
            "id", "unit_id", "channel", "received_at"
        ):
            owner[pk] = unit_id
            if channel == Channel.FEED_12389 and received_at < end:
                days[pk].add(local_day(received_at))
        for appeal_id, when in WorkOrderEvent.objects.filter(
            order__appeal_id__in=ids, action=Action.REOPEN, created_at__lt=end
        ).values_list("order__appeal_id", "created_at"):
            days[appeal_id].add(local_day(when))
    for pk, unit_id in owner.items():
        previous = None
        for d in sorted(days[pk]):
            if d >= first:
                b = out[d][unit_id]
                if previous is None:
                    b.ints["escalations_first"] += 1
                else:
                    b.maps["escalations_after"][previous.isoformat()] += 1
            previous = d

    replied = Q(Exists(InboundSms.objects.filter(matched_sms=OuterRef("pk"))))
    for row in (
        OutboundSms.objects.filter(
            _unit_q("service_record__unit_id", unit_ids),
            purpose=SmsPurpose.EVALUATION,
            service_record__isnull=False,
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .annotate(d=local("sent_at"))
        .values("d", uid=F("service_record__unit_id"))
        .annotate(
            sms_delivered=Count("id", filter=Q(status=SmsStatus.DELIVERED) | replied),
            sms_replied=Count("id", filter=replied),
        )
        .order_by()
    ):
        b = out[row.pop("d")][row.pop("uid")]
        for name, n in row.items():
            if n:
                b.ints[name] += n
    return {
        d: kept
        for d, buckets in sorted(out.items())
        if (kept := {uid: b for uid, b in buckets.items() if not b.is_empty()})
    }


def compute_day(day: dt.date, unit_ids: set | None = None) -> dict[int | None, Bucket]:
    """The buckets of one local day from the source tables, for the given owning units (all when
    None): ``compute_range`` over that day."""
    return compute_range(day, day + dt.timedelta(days=1), unit_ids).get(day, {})


# --- Storing --------------------------------------------------------------------------------


def _lock(space: int, day: dt.date) -> None:
    """A transaction-scoped advisory lock on ``day`` in ``space`` (released at commit). SQLite
    (make run) serialises writers itself: one write transaction at a time."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [space, day.toordinal()])


def _lock_day(day: dt.date) -> None:
    """One recomputation of a day at a time: a slower run could otherwise write subtree rows from
    an older reading over a newer one."""
    _lock(_LOCK_SPACE, day)


def _lock_month(month: dt.date) -> None:
    """One rewrite of a month's rows at a time, taken after the day locks (never before one): a
    month row is summed from every day of the month, so two days' transactions must not each
    write a sum that misses the other's day."""
    _lock(_MONTH_LOCK_SPACE, month)


def _store_units(day: dt.date, buckets: dict[int | None, Bucket], unit_ids: set | None) -> None:
    """Replace the owned rows of these units (all units when None) on this day."""
    paths = dict(Unit.objects.filter(pk__in=[u for u in buckets if u is not None]).values_list("pk", "path"))
    stale = UnitDayFigures.objects.filter(day=day)
    if unit_ids is not None:
        stale = stale.filter(_unit_q("unit_id", unit_ids))
    stale.exclude(_unit_q("unit_id", set(buckets)) if buckets else Q(pk__in=[])).delete()
    if buckets:
        _upsert(
            UnitDayFigures,
            [
                UnitDayFigures(day=day, unit_id=uid, path=paths.get(uid, "") if uid else "", **b.as_fields())
                for uid, b in buckets.items()
            ],
            key="unit",
        )


def _upsert(model, rows: list, *, key: str) -> None:
    """Insert the day's rows, replacing those already stored for the same (key, day). PostgreSQL
    does it in one statement on the unique constraint (NULLS NOT DISTINCT); SQLite (``make run``)
    cannot create that constraint, so there the stored rows are deleted first, in the same
    transaction."""
    if connection.vendor == "postgresql":
        model.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=[key, "day"], update_fields=["path", *ALL_FIELDS], batch_size=500
        )
        return
    for row in rows:
        model.objects.filter(day=row.day, **{f"{key}_id": getattr(row, f"{key}_id")}).delete()
    model.objects.bulk_create(rows, batch_size=500)


def _store_tree(day: dt.date) -> None:
    """Rebuild every subtree row of the day from the owned rows (a day holds one row per active
    unit, so this is a few thousand additions at a province's size), then the month rows of the
    nodes whose day row changed."""
    own = UnitDayFigures.objects.filter(day=day).values("unit_id", "path", *ALL_FIELDS)
    trees: dict[int | None, Bucket] = defaultdict(Bucket)
    for row in own:
        nodes: list[int | None] = [None]
        if row["unit_id"] is not None:
            nodes += [int(p) for p in row["path"].strip("/").split("/") if p] or [row["unit_id"]]
        for node in nodes:
            trees[node].add_row(row)
    paths = dict(Unit.objects.filter(pk__in=[n for n in trees if n is not None]).values_list("pk", "path"))
    trees = {n: b for n, b in trees.items() if n is None or n in paths}
    before = {
        row.pop("node_id"): row for row in TreeDayFigures.objects.filter(day=day).values("node_id", "path", *ALL_FIELDS)
    }
    after = {n: {"path": paths.get(n, "") if n else "", **b.as_fields()} for n, b in trees.items()}
    changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    if not changed:
        return
    TreeDayFigures.objects.filter(day=day).exclude(_unit_q("node_id", set(trees)) if trees else Q(pk__in=[])).delete()
    if trees:
        _upsert(
            TreeDayFigures, [TreeDayFigures(day=day, node_id=n, **fields) for n, fields in after.items()], key="node"
        )
    _store_months(day, changed)


def _store_months(day: dt.date, nodes: set | None) -> None:
    """Rewrite the month rows (the month of ``day``) of these nodes (every node when None) as the
    sum of their day rows of that month, under the month's lock."""
    month = month_of(day)
    first, until = month.first, month.until
    _lock_month(first)
    stale = TreeMonthFigures.objects.filter(day=first)
    if nodes is not None:
        stale = stale.filter(_unit_q("node_id", nodes))
    stale.delete()
    if connection.vendor == "postgresql":
        ids = sorted(n for n in nodes if n is not None) if nodes is not None else None
        scope = "" if nodes is None else "AND (f.node_id = ANY(%s::bigint[]) OR (%s AND f.node_id IS NULL))"
        rows = f"""
            SELECT %s::date AS day, f.node_id AS node, COALESCE(f.node_id, 0) AS nk,
                   {", ".join(f"f.{c}" for c in ALL_FIELDS)}
            FROM {TreeDayFigures._meta.db_table} f
            WHERE f.day >= %s AND f.day < %s {scope}
        """
        params = [first, first, until] + ([] if nodes is None else [ids, None in nodes])
        _insert_sums(TreeMonthFigures._meta.db_table, rows, params)
        return
    sums: dict[int | None, Bucket] = defaultdict(Bucket)
    paths: dict[int | None, str] = {}
    days = TreeDayFigures.objects.filter(day__gte=first, day__lt=until)
    if nodes is not None:
        days = days.filter(_unit_q("node_id", nodes))
    for row in days.values("node_id", "path", *ALL_FIELDS):
        sums[row["node_id"]].add_row(row)
        paths[row["node_id"]] = row["path"]
    TreeMonthFigures.objects.bulk_create(
        [TreeMonthFigures(day=first, node_id=n, path=paths[n], **b.as_fields()) for n, b in sums.items()],
        batch_size=500,
    )


def refresh_marked(*, days: Iterable[dt.date] | None = None, limit: int = 20000) -> int:
    """Recompute the marked buckets (only those of ``days`` when given), a day per transaction.

    Steps per day: lock the day; recompute the marked units' buckets from the source rows (read
    after the marks, so every fact whose mark was read is counted); rebuild the day's subtree rows;
    delete exactly the mark rows read. A mark committed after the read is another row: it stays,
    and the next run recomputes its bucket. Returns the buckets done (a bucket marked many times
    counts once).
    """
    marks = AggregateMark.objects.order_by("day", "id")
    if days is not None:
        days = sorted(set(days))
        if not days:
            return 0
        marks = marks.filter(day__in=days)
    by_day: dict[dt.date, list[tuple[int, int | None]]] = defaultdict(list)
    for pk, day, unit_id in marks.values_list("id", "day", "unit_id")[:limit]:
        by_day[day].append((pk, unit_id))
    done = 0
    for day, rows in by_day.items():
        with transaction.atomic():
            _lock_day(day)
            unit_ids = {unit_id for _pk, unit_id in rows}
            _store_units(day, compute_day(day, unit_ids), unit_ids)
            _store_tree(day)
            _delete_marks([pk for pk, _u in rows])
        done += len(unit_ids)
    return done


def _delete_marks(seen: list[int]) -> None:
    """Delete exactly the mark rows read (by id): marks written since are other rows and stay."""
    for i in range(0, len(seen), 5000):
        chunk = seen[i : i + 5000]
        if connection.vendor != "postgresql":
            AggregateMark.objects.filter(pk__in=chunk).delete()
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {AggregateMark._meta.db_table} WHERE id = ANY(%s)", [chunk])


def refresh_days(days: Iterable[dt.date]) -> int:
    """Recompute whole days from the source tables, whatever was marked (the nightly job and
    ``rebuild_aggregates``); marks of those days are consumed. Returns the days done."""
    n = 0
    for day in sorted(set(days)):
        with transaction.atomic():
            _lock_day(day)
            seen = list(AggregateMark.objects.filter(day=day).values_list("id", flat=True))
            _store_units(day, compute_day(day), None)
            _store_tree(day)
            _delete_marks(seen)
        n += 1
    return n


def refresh_range(first: dt.date, until: dt.date) -> int:
    """Recompute every day of [first, until) from the source tables in one pass per source table
    (``compute_range``), in one transaction: lock the days, read their marks, replace the owned
    rows of the range, rebuild the range's subtree rows, consume the marks read. Callers keep the
    range to about a month (``rebuild_range``), so memory stays bounded. Returns the days done."""
    if until <= first:
        return 0
    with transaction.atomic():
        for d in Period(first, until).days:
            _lock_day(d)
        seen = list(AggregateMark.objects.filter(day__gte=first, day__lt=until).values_list("id", flat=True))
        by_day = compute_range(first, until)
        units = {uid for buckets in by_day.values() for uid in buckets if uid is not None}
        paths = {}
        for ids in _in_chunks(sorted(units)):
            paths.update(Unit.objects.filter(pk__in=ids).values_list("pk", "path"))
        UnitDayFigures.objects.filter(day__gte=first, day__lt=until).delete()
        UnitDayFigures.objects.bulk_create(
            (
                UnitDayFigures(day=d, unit_id=uid, path=paths.get(uid, "") if uid else "", **b.as_fields())
                for d, buckets in by_day.items()
                for uid, b in buckets.items()
            ),
            batch_size=2000,
        )
        del by_day
        if connection.vendor == "postgresql":
            _store_tree_range(first, until)
            months = sorted({d.replace(day=1) for d in Period(first, until).days})
            for month in months:
                _store_months(month, None)
        else:
            for d in Period(first, until).days:
                _store_tree(d)
        _delete_marks(seen)
    return (until - first).days


def rebuild_range(first: dt.date, until: dt.date, *, progress=None) -> int:
    """``refresh_range`` a calendar month at a time (the first and last chunks clipped to the
    range); ``progress(first, until)`` is called after each chunk. Returns the days done."""
    done = 0
    chunk = first
    while chunk < until:
        end = min((chunk.replace(day=1) + dt.timedelta(days=32)).replace(day=1), until)
        done += refresh_range(chunk, end)
        if progress is not None:
            progress(chunk, end)
        chunk = end
    if connection.vendor == "postgresql":
        # A rebuild replaces millions of rows at once: the planner's statistics follow now, not
        # whenever autovacuum comes by (a month of the city's days read through the day index,
        # every node's rows filtered, 140 ms where the right index reads 30 rows in 0.2 ms).
        with connection.cursor() as cursor:
            for model in (UnitDayFigures, TreeDayFigures, TreeMonthFigures):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return done


def _store_tree_range(first: dt.date, until: dt.date) -> None:
    """Rebuild the subtree rows of [first, until) from the owned rows in SQL (PostgreSQL): each
    owned row counts for every unit on its path (a row whose path is empty, for its own unit) and
    for the whole city (node NULL); the integer columns are summed, the maps summed key by key.
    The same rows as ``_store_tree`` day by day, in a few set-wise statements. Rows are written
    node by node, so a node's month lies on a page or two: a year of a province's hundred cities
    reads a few thousand pages, not every page of the year."""
    own, tree, units = UnitDayFigures._meta.db_table, TreeDayFigures._meta.db_table, Unit._meta.db_table
    rows = f"""
        SELECT f.day, n.node, COALESCE(n.node, 0) AS nk, {", ".join(f"f.{c}" for c in ALL_FIELDS)}
        FROM {own} f
        CROSS JOIN LATERAL (
            SELECT NULL::bigint AS node
            UNION ALL
            SELECT p::bigint FROM unnest(string_to_array(trim(BOTH '/' FROM f.path), '/')) AS p
            WHERE f.unit_id IS NOT NULL AND p <> ''
            UNION ALL
            SELECT f.unit_id WHERE f.unit_id IS NOT NULL AND trim(BOTH '/' FROM f.path) = ''
        ) n
        WHERE f.day >= %s AND f.day < %s
          AND (n.node IS NULL OR EXISTS (SELECT 1 FROM {units} u WHERE u.id = n.node))
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {tree} WHERE day >= %s AND day < %s", [first, until])
    _insert_sums(tree, rows, [first, until])


def _insert_sums(target: str, rows: str, params: list) -> None:
    """Insert into ``target`` the sums of ``rows`` (a SELECT of day, node, nk and every figure
    column) per (day, nk): the integer columns summed, the maps summed key by key (keys whose sum
    is 0 dropped), the node's path from the unit table. ``nk`` is the node with the whole city as 0
    (no unit has id 0), so every join is on equal keys. Rows are written node by node, so a node's
    month lies on a page or two."""
    units = Unit._meta.db_table
    sums = ", ".join(f"SUM({name}) AS {name}" for name in INT_FIELDS)
    entries = " UNION ALL ".join(
        f"SELECT '{name}' AS f, key, value FROM jsonb_each_text(o.{name}) WHERE o.{name} <> '{{}}'::jsonb"
        for name in JSON_FIELDS
    )
    maps = ", ".join(f"COALESCE(m.maps -> '{name}', '{{}}'::jsonb)" for name in JSON_FIELDS)
    sql = f"""
        WITH owned AS MATERIALIZED ({rows}),
        t AS (
            SELECT day, nk, MAX(node) AS node, {sums} FROM owned GROUP BY day, nk
        ),
        e AS (
            SELECT o.day, o.nk, x.f, x.key, SUM(x.value::bigint) AS n
            FROM owned o CROSS JOIN LATERAL ({entries}) x
            GROUP BY o.day, o.nk, x.f, x.key
            HAVING SUM(x.value::bigint) <> 0
        ),
        m AS (
            SELECT day, nk, jsonb_object_agg(f, v) AS maps
            FROM (SELECT day, nk, f, jsonb_object_agg(key, n) AS v FROM e GROUP BY day, nk, f) y
            GROUP BY day, nk
        )
        INSERT INTO {target} (day, node_id, path, {", ".join(ALL_FIELDS)})
        SELECT t.day, t.node, COALESCE(u.path, ''), {", ".join(f"t.{name}" for name in INT_FIELDS)}, {maps}
        FROM t
        LEFT JOIN m ON m.day = t.day AND m.nk = t.nk
        LEFT JOIN {units} u ON u.id = t.node
        ORDER BY t.nk, t.day
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refresh_for(period: Period) -> int:
    """Fold the marked buckets of a period in before an exact read (rankings, bulletins)."""
    return refresh_marked(days=period.days)


def fresh_enough(period: Period) -> None:
    """Before a dashboard read: figures are those of the last minute job, unless
    ``ANALYTICS_REFRESH_ON_READ`` asks for the period's marks to be folded in first."""
    if settings.ANALYTICS_REFRESH_ON_READ:
        refresh_for(period)


def behind_since() -> dt.datetime | None:
    """When the oldest change not yet folded into the stored figures was made, if that is longer
    ago than ``ANALYTICS_BEHIND_AFTER_SECONDS`` (the minute job is not running); else None. The
    marks are append-only, so the oldest is the first by id: one row read by the primary key."""
    oldest = AggregateMark.objects.order_by("id").values_list("marked_at", flat=True).first()
    if oldest is None or timezone.now() - oldest < dt.timedelta(seconds=settings.ANALYTICS_BEHIND_AFTER_SECONDS):
        return None
    return oldest


# --- Reading --------------------------------------------------------------------------------


def _pieces(period: Period) -> list[tuple[type, dt.date, dt.date]]:
    """The period as (table, first, until) ranges: its whole calendar months from the month rows
    (one row per node and month, keyed by the month's first day), the days before and after them
    from the day rows."""
    first, until = period.first, period.until
    month = first if first.day == 1 else month_of(first).until
    months_until = month
    while month_of(months_until).until <= until:
        months_until = month_of(months_until).until
    if months_until == month:  # no whole month inside
        return [(TreeDayFigures, first, until)]
    pieces = [(TreeMonthFigures, month, months_until)]
    if first < month:
        pieces.append((TreeDayFigures, first, month))
    if months_until < until:
        pieces.append((TreeDayFigures, months_until, until))
    return pieces


# Up to this many nodes are read node by node on the (node, day) index; more, by the day range.
_JOIN_NODES = 500


def stored_counts(period: Period, nodes: Iterable[int | None]) -> dict[int | None, Counter]:
    """The counters of ``analytics.metrics.COUNTERS`` for each node (a unit's subtree; None the whole
    city) over the period: one grouped query over the nodes' month rows of the period's whole
    months and day rows of the days around them (≤ 12 + 60 rows per node for a year)."""
    nodes = list(dict.fromkeys(nodes))
    ids = [n for n in nodes if n is not None]
    verdicts = list(settings.ANALYTICS_RESOLVED_VERDICTS)
    alias = TreeDayFigures.objects.all().db
    if connections[alias].vendor != "postgresql":
        return _stored_counts_portable(period, nodes, verdicts)
    columns = ", ".join(f"f.{c}" for c in ["node_id", *INT_FIELDS, "resolved_by", "escalations_after"])
    arms, params = [], []
    for model, first, until in _pieces(period):
        # Each arm reads the nodes' days or months, not their history, nor every node's rows of
        # the range: a few nodes (a dashboard's root and its rows) are joined one by one to the
        # (node, day) index; PostgreSQL otherwise took the day index and filtered a whole
        # province's days (25,888 rows read for 808 at 1M, ten times that at 10M). Many nodes (a
        # tier's every station) are most of the range: read by the day index, each row's node
        # looked up in the array, cast to the column's type (psycopg sends small ids as
        # smallint[], and ``bigint = ANY(smallint[])`` walks the whole array for every row:
        # 8,000 stations' month, 73 million comparisons, 166 ms). The city (node None) is its own
        # arm on its partial index.
        table = model._meta.db_table
        if len(ids) > _JOIN_NODES:
            arms.append(
                f"SELECT {columns} FROM {table} f WHERE f.node_id = ANY(%s::bigint[]) AND f.day >= %s AND f.day < %s"
            )
            params += [ids, first, until]
        elif ids:
            # The LIMIT (a node has at most one row a day, so it never cuts) keeps the subquery
            # from being flattened into a hash join over the day index: it runs per node.
            arms.append(
                f"SELECT {columns} FROM unnest(%s::bigint[]) AS n(id) CROSS JOIN LATERAL"
                f" (SELECT * FROM {table} t WHERE t.node_id = n.id AND t.day >= %s AND t.day < %s LIMIT %s) f"
            )
            params += [ids, first, until, (until - first).days]
        if None in nodes:
            arms.append(f"SELECT {columns} FROM {table} f WHERE f.node_id IS NULL AND f.day >= %s AND f.day < %s")
            params += [first, until]
    if not arms:
        return {n: Counter() for n in nodes}
    ints = ", ".join(f"COALESCE(SUM({name}), 0)" for name in INT_FIELDS)
    sql = f"""
        SELECT node_id, {ints},
               COALESCE(SUM(CASE WHEN resolved_by = '{{}}'::jsonb THEN 0 ELSE
                            (SELECT COALESCE(SUM(v::int), 0) FROM jsonb_each_text(resolved_by) AS r(k, v)
                             WHERE k = ANY(%s)) END), 0),
               COALESCE(SUM(CASE WHEN escalations_after = '{{}}'::jsonb THEN 0 ELSE
                            (SELECT COALESCE(SUM(v::int), 0) FROM jsonb_each_text(escalations_after) AS e(k, v)
                             WHERE k < %s) END), 0)
        FROM ({" UNION ALL ".join(arms)}) f
        GROUP BY node_id
    """
    out: dict[int | None, Counter] = {n: Counter() for n in nodes}
    # The database the router reads from (a replica serves analytics when one is configured).
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [verdicts, period.first.isoformat(), *params])
        n_ints = len(INT_FIELDS)
        escalations_first = INT_FIELDS.index("escalations_first")
        names = [*INT_FIELDS, "dissatisfied_resolved", "escalations"]
        for row in cursor.fetchall():
            values = [int(v) for v in row[1:]]  # SUM of a bigint is numeric in PostgreSQL
            values[n_ints + 1] += values[escalations_first]
            values[escalations_first] = 0
            # Built from a dict (one C-level update), the zeros left out, as ``+counter`` would.
            out[row[0]] = Counter({k: v for k, v in zip(names, values, strict=True) if v})
    return out


def _stored_counts_portable(period: Period, nodes: list[int | None], verdicts: list[str]) -> dict[int | None, Counter]:
    """The same sums as ``stored_counts`` folded in Python, for SQLite (the development database of
    ``make run``), whose SQL has no jsonb functions. It reads the same rows."""
    ids = [n for n in nodes if n is not None]
    scope = Q(node_id__in=ids) | Q(node__isnull=True) if None in nodes else Q(node_id__in=ids)
    first = period.first.isoformat()
    out: dict[int | None, Counter] = {n: Counter() for n in nodes}
    for model, since, until in _pieces(period):
        rows = model.objects.filter(scope, day__gte=since, day__lt=until)
        for row in rows.values("node_id", *INT_FIELDS, "resolved_by", "escalations_after"):
            c = out[row["node_id"]]
            for name in INT_FIELDS:
                c[name] += int(row[name] or 0)
            c["dissatisfied_resolved"] += sum(int(v) for k, v in (row["resolved_by"] or {}).items() if k in verdicts)
            c["escalations_after"] += sum(int(v) for k, v in (row["escalations_after"] or {}).items() if k < first)
    for node, c in out.items():
        c["escalations"] = c.pop("escalations_first", 0) + c.pop("escalations_after", 0)
        out[node] = +c
    return out


def stored_metrics(
    period: Period, nodes: Iterable[int | None], *, weight: float | None = None
) -> dict[int | None, UnitMetrics]:
    """``UnitMetrics`` per node from the stored rows (same figures as ``analytics.metrics``)."""
    weight = basic_weight() if weight is None else weight
    return {n: UnitMetrics(n, c, weight) for n, c in stored_counts(period, nodes).items()}


def stored_days(period: Period, node: int | None) -> list[dict]:
    """The day rows of one subtree over the period (≤ 366), for the charts and breakdowns."""
    qs = TreeDayFigures.objects.filter(day__gte=period.first, day__lt=period.until)
    qs = qs.filter(node__isnull=True) if node is None else qs.filter(node_id=node)
    return list(
        qs.order_by("day").values(
            "day", "appeals", "satisfied", "basic", "dissatisfied", "channels", "severities", "categories"
        )
    )
