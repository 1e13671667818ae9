"""The daily aggregates equal the live computation (``analytics.metrics``, the reference) on a
generated month: every metric, several subtrees, several periods, and again after late changes
once the marked buckets are recomputed."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from analytics import aggregates
from analytics.metrics import COUNTERS, total_metrics
from analytics.models import AggregateMark, TreeDayFigures, TreeMonthFigures, UnitDayFigures
from analytics.periods import Period, day, month_of, week_of
from analytics.signals import mark
from intake.models import Appeal, Category
from sms.models import InboundSms, OutboundSms
from surveys.models import Rating
from tests.feeds.conftest import sources  # noqa: F401 - the feed sources fixture
from units.models import Unit

from .conftest import at

pytestmark = pytest.mark.django_db

CHANNELS = ["hotline", "mayor_mailbox", "12345", "12389", "message_board", "enterprise"]
SEVERITIES = ["red", "orange", "yellow", "blue"]
PERIODS = [
    month_of(dt.date(2026, 10, 1)),
    week_of(dt.date(2026, 10, 14)),
    day(dt.date(2026, 10, 10)),
    Period(dt.date(2026, 10, 5), dt.date(2026, 10, 17)),
    Period(dt.date(2026, 9, 28), dt.date(2026, 10, 3)),
    Period(dt.date(2026, 10, 1), dt.date(2027, 1, 1)),  # the quarter
]


def _when(rnd: random.Random) -> dt.datetime:
    first = dt.date(2026, 9, 27)
    d = first + dt.timedelta(days=rnd.randrange(40))
    return at(d.isoformat(), f"{rnd.randrange(24):02d}:{rnd.randrange(60):02d}")


@pytest.fixture
def month(make, city, station, other_station):
    """A month of random facts (seeded) around October 2026 over the demo unit tree."""
    rnd = random.Random(20261001)
    units = list(Unit.objects.exclude(tier="city"))
    categories = [Category.objects.create(code=f"AGG{i}", name=f"类别{i}") for i in range(4)] + [None]
    appeals = []
    for _ in range(120):
        appeals.append(
            make.appeal(
                unit=rnd.choice(units + [None]),
                received_at=_when(rnd),
                channel=rnd.choice(CHANNELS),
                severity=rnd.choice(SEVERITIES),
                category=rnd.choice(categories),
                is_repeat=rnd.random() < 0.2,
            )
        )
    orders = []
    for appeal in rnd.sample([a for a in appeals if a.unit_id], 60):
        due = _when(rnd)
        status = rnd.choice(["closed", "closed", "in_progress", "handed_back", "dispatched"])
        closed = due + dt.timedelta(hours=rnd.randrange(-90, 90)) if status == "closed" else None
        orders.append(
            make.order(
                unit=appeal.unit,
                appeal=appeal,
                due_at=due,
                status=status,
                closed_at=closed,
                closed_on_time=(closed <= due) if closed else None,
            )
        )
    for order in rnd.sample(orders, 15):
        for _ in range(rnd.choice([1, 1, 2])):
            make.reopen_event(order, when=_when(rnd))
    ratings = []
    for _ in range(110):
        ratings.append(
            make.rating(
                unit=rnd.choice(units + [None] if rnd.random() < 0.05 else units),
                verdict=rnd.choice(["satisfied", "satisfied", "basic", "dissatisfied", "declined"]),
                rated_at=_when(rnd),
            )
        )
    for rating in [r for r in ratings if r.verdict == "dissatisfied"][::2]:
        make.callback(rating, verdict=rnd.choice(["resolved", "explained", "unresolved"]), closed=rnd.random() < 0.8)
    for _ in range(40):
        make.evaluation_sms(
            unit=rnd.choice(units),
            sent_at=_when(rnd),
            status=rnd.choice(["delivered", "delivered", "sent", "failed"]),
            replied=rnd.random() < 0.4,
        )
    return {"appeals": appeals, "orders": orders, "ratings": ratings, "units": units, "categories": categories}


def _nodes(station, other_station):
    city = Unit.objects.get(tier="city", parent__isnull=True)
    department = Unit.objects.filter(tier="department").first()
    bureaus = list(Unit.objects.filter(tier="district").order_by("pk"))
    return [None, city, *bureaus, station, other_station, department]


def _live(period, node):
    m = total_metrics(period, within=node)
    return {k: m.counts[k] for k in COUNTERS}


def _stored(period, node):
    counts = aggregates.stored_counts(period, [node.pk if node else None])[node.pk if node else None]
    return {k: counts[k] for k in COUNTERS}


def _assert_equal_everywhere(nodes):
    for period in PERIODS:
        for node in nodes:
            assert _stored(period, node) == _live(period, node), (period, node)


def _assert_months_sum_their_days():
    """Every month row is the sum of its node's day rows of that month, and no month with day rows
    lacks one."""
    expected: dict = {}
    for row in TreeDayFigures.objects.values("node_id", "day", *aggregates.ALL_FIELDS):
        key = (row.pop("node_id"), row.pop("day").replace(day=1))
        expected.setdefault(key, aggregates.Bucket()).add_row(row)
    stored = {
        (row.pop("node_id"), row.pop("day")): row
        for row in TreeMonthFigures.objects.values("node_id", "day", *aggregates.ALL_FIELDS)
    }
    assert stored == {key: b.as_fields() for key, b in expected.items()}


def _live_channels(period, node):
    qs = Appeal.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    if node is not None:
        qs = qs.filter(unit__path__startswith=node.path)
    return Counter(qs.values_list("channel", flat=True))


def _stored_channels(period, node):
    total = Counter()
    for row in aggregates.stored_days(period, node.pk if node else None):
        total.update(row["channels"])
    return +total


def test_the_aggregates_equal_the_live_figures_on_a_generated_month(month, station, other_station):
    nodes = _nodes(station, other_station)
    assert AggregateMark.objects.exists()  # every fact marked its bucket
    aggregates.refresh_marked()
    assert not AggregateMark.objects.exists()
    october = PERIODS[0]
    assert _live(october, None)["escalations"] > 0 and _live(october, None)["dissatisfied_resolved"] > 0
    _assert_equal_everywhere(nodes)
    _assert_months_sum_their_days()
    assert (
        TreeMonthFigures.objects.filter(day=dt.date(2026, 10, 1), node=None).get().appeals
        == _live(october, None)["appeals"]
    )
    for period in PERIODS:
        for node in nodes:
            assert _stored_channels(period, node) == _live_channels(period, node)


def test_the_aggregates_follow_late_changes_once_the_marks_are_recomputed(
    month, make, station, other_station, settings
):
    nodes = _nodes(station, other_station)
    aggregates.refresh_marked()
    rnd = random.Random(7)
    # Re-categorised and re-dispatched appeals (one of them reopened: its escalations move too).
    moved = next(o.appeal for o in month["orders"] if o.events.filter(action="reopen").exists())
    moved.unit = other_station if moved.unit_id != other_station.pk else station
    moved.category = month["categories"][0]
    moved.save()
    recategorised = rnd.choice(month["appeals"])
    recategorised.category = month["categories"][1]
    recategorised.severity = "red"
    recategorised.save()
    # A late rating, a callback closed resolved, a rating withdrawn.
    make.rating(unit=station, verdict="dissatisfied", rated_at=at("2026-10-03", "08:00"))
    open_rating = make.rating(unit=station, verdict="dissatisfied", rated_at=at("2026-10-04", "09:00"))
    callback = make.callback(open_rating, closed=False)
    callback.verdict, callback.status, callback.closed_at = "resolved", "closed", at("2026-10-20")
    callback.save()
    Rating.objects.filter(pk__in=[r.pk for r in month["ratings"]], callback__isnull=True).first().delete()
    # A work order closed late, another reopened on an earlier day than a 12389 receipt.
    order = next(o for o in month["orders"] if o.status == "in_progress")
    order.status, order.closed_at, order.closed_on_time = "closed", at("2026-10-25"), False
    order.save()
    make.reopen_event(rnd.choice(month["orders"]), when=at("2026-10-02", "12:00"))
    # A reply to an evaluation SMS sent earlier; an appeal's receipt moved to another day.
    sms = OutboundSms.objects.filter(purpose="evaluation", status="sent").first()
    InboundSms.objects.create(
        provider="test", provider_message_id="late-1", phone="+8613800999999", body="2", matched_sms=sms
    )
    shifted = month["appeals"][3]
    shifted.received_at = at("2026-10-29", "07:00")
    shifted.save()

    assert any(_stored(p, n) != _live(p, n) for p in PERIODS for n in nodes)  # stale until the job runs
    aggregates.refresh_marked()
    _assert_equal_everywhere(nodes)
    _assert_months_sum_their_days()
    for period in PERIODS[:3]:
        for node in nodes:
            assert _stored_channels(period, node) == _live_channels(period, node)


def test_a_unit_moved_to_another_bureau_carries_its_figures(month, station, other_station):
    aggregates.refresh_marked()
    target = Unit.objects.filter(tier="district").exclude(pk=station.parent_id).first()
    station.parent = target
    station.save()
    aggregates.refresh_marked()
    _assert_equal_everywhere(_nodes(Unit.objects.get(pk=station.pk), other_station))
    _assert_months_sum_their_days()


def _rows(model, key):
    return [{k: v for k, v in r.items() if k != "id"} for r in model.objects.order_by(key, "day").values()]


def _all_rows():
    return _rows(TreeDayFigures, "node_id"), _rows(UnitDayFigures, "unit_id"), _rows(TreeMonthFigures, "node_id")


def test_a_full_rebuild_gives_the_same_rows_as_the_minute_job(month, station, other_station):
    aggregates.refresh_marked()
    before = _all_rows()
    TreeDayFigures.objects.all().delete()
    TreeMonthFigures.objects.all().delete()
    aggregates.refresh_days(Period(dt.date(2026, 9, 20), dt.date(2026, 11, 10)).days)
    assert _all_rows() == before


def test_the_set_wise_rebuild_gives_the_same_rows_as_the_minute_job(month, station, other_station):
    """``rebuild_aggregates`` reads each source table once per month over the range (set-wise,
    the subtree rows in SQL): the same rows as the day-by-day minute job, marks consumed, the
    live figures everywhere, and progress per calendar month."""
    from analytics import services

    aggregates.refresh_marked()
    before = _all_rows()
    assert len(before[0]) > 40 and len(before[1]) > 40 and len(before[2]) > 10
    TreeDayFigures.objects.all().delete()
    TreeMonthFigures.objects.update(appeals=999)  # stale rows to replace
    UnitDayFigures.objects.filter(day__gte=dt.date(2026, 10, 1)).update(appeals=999)  # stale rows to replace
    mark([(dt.date(2026, 10, 12), station.pk), (dt.date(2027, 1, 5), None)])
    chunks = []
    done = services.rebuild_aggregates(
        first=dt.date(2026, 9, 20), until=dt.date(2026, 11, 10), progress=lambda a, b: chunks.append((a, b))
    )
    assert done == 51
    assert chunks == [
        (dt.date(2026, 9, 20), dt.date(2026, 10, 1)),
        (dt.date(2026, 10, 1), dt.date(2026, 11, 1)),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 10)),
    ]
    assert _all_rows() == before
    assert list(AggregateMark.objects.values_list("day", flat=True)) == [dt.date(2027, 1, 5)]  # outside the range
    _assert_equal_everywhere(_nodes(station, other_station))


def test_the_rebuild_command_checks_its_dates_and_reports_each_month(month):
    from io import StringIO

    from django.core.management import CommandError, call_command

    TreeDayFigures.objects.all().delete()
    out = StringIO()
    call_command("rebuild_aggregates", "--from", "2026-09-25", "--to", "2026-10-31", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2026-09-25 ~ 2026-09-30：已重算")
    assert lines[1].startswith("2026-10-01 ~ 2026-10-31：已重算")
    assert lines[2].startswith("共重算 37 天")
    days = set(TreeDayFigures.objects.values_list("day", flat=True))
    assert days and min(days) >= dt.date(2026, 9, 25) and max(days) <= dt.date(2026, 10, 31)
    with pytest.raises(CommandError, match="结束日期不能早于开始日期"):
        call_command("rebuild_aggregates", "--from", "2026-10-02", "--to", "2026-10-01", stdout=out)
    with pytest.raises(CommandError, match="日期格式应为"):
        call_command("rebuild_aggregates", "--from", "2026/10/02", stdout=out)


@pytest.mark.django_db(transaction=True)
def test_marks_of_one_bucket_never_wait_for_each_other_and_a_later_mark_survives_the_job(station):
    """Two open transactions mark the same (day, unit): neither waits for the other's commit (the
    upsert of one row per bucket made every create of a day commit one after the other). The job
    deletes only the marks it read: one committed after its read stays for the next run."""
    when = dt.date(2026, 10, 10)
    mark([(when, station.pk)])
    holding, release, failed = threading.Event(), threading.Event(), []

    def other_fact():
        try:
            with transaction.atomic():
                mark([(when, station.pk)])
                holding.set()
                release.wait(20)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            failed.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=other_fact)
    thread.start()
    try:
        assert holding.wait(20)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            mark([(when, station.pk)])  # would wait for the other transaction's commit
        assert AggregateMark.objects.filter(day=when, unit=station).count() == 2
        assert aggregates.refresh_marked() == 1  # two marks, one bucket
        assert not AggregateMark.objects.exists()
    finally:
        release.set()
        thread.join()
    assert not failed
    assert list(AggregateMark.objects.values_list("day", "unit_id")) == [(when, station.pk)]
    assert aggregates.refresh_marked() == 1
    assert not AggregateMark.objects.exists()


def test_a_fact_marked_after_the_job_read_the_marks_is_counted_by_the_next_run(make, station):
    """The job reads the marks, then the source rows: an appeal committed between is either counted
    now or (its mark not read) by the next run; no run deletes a mark it did not read."""
    make.appeal(unit=station, received_at=at("2026-10-10"))
    seen = list(AggregateMark.objects.values_list("id", flat=True))
    make.appeal(unit=station, received_at=at("2026-10-10"))  # committed after the read
    aggregates._delete_marks(seen)
    assert AggregateMark.objects.count() == 1
    aggregates.refresh_marked()
    assert not AggregateMark.objects.exists()
    stored = UnitDayFigures.objects.get(day=dt.date(2026, 10, 10), unit=station)
    assert stored.appeals == Appeal.objects.filter(unit=station).count() == 2


def test_a_save_that_changes_nothing_counted_marks_nothing(make, station):
    appeal = make.appeal(unit=station, received_at=at("2026-10-10"))
    AggregateMark.objects.all().delete()
    appeal = Appeal.objects.get(pk=appeal.pk)
    appeal.title = "标题改了"
    appeal.status = "dispatched"
    appeal.save()
    assert not AggregateMark.objects.exists()
    appeal.is_repeat = True
    appeal.save()
    assert list(AggregateMark.objects.values_list("day", "unit_id")) == [(dt.date(2026, 10, 10), station.pk)]


SOURCE_TABLES = (
    "intake_appeal",
    "workorders_workorder",
    "surveys_rating",
    "surveys_callback",
    "sms_outboundsms",
    "sms_inboundsms",
)


def test_the_ranking_and_the_dashboard_figures_read_no_history(month, supervisor, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import selectors, services

    aggregates.refresh_marked()
    settings.ANALYTICS_REFRESH_ON_READ = False
    october = PERIODS[0]
    with CaptureQueriesContext(connection) as queries:
        ranking = services.compute_ranking(month=october.first, tier="station")
        totals, rows = selectors.figures(october, selectors.dashboard_scope(supervisor))
        selectors.daily_series(october)
        selectors.category_counts(october)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert [t for t in SOURCE_TABLES if t in sql] == []
    assert {k: totals.counts[k] for k in COUNTERS} == _live(october, None)
    assert ranking.entries.count() == Unit.objects.filter(tier="station", is_active=True).count()


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_imported_appeals_reach_the_aggregates_on_both_import_paths(sources, city, method):  # noqa: F811
    from tests.feeds.test_imports import GOOD, csv_bytes, do_import

    do_import(sources["12345"], csv_bytes(GOOD), method=method)
    assert Appeal.objects.count() == 2
    aggregates.refresh_marked()
    everything = Period(dt.date(2020, 1, 1), dt.date(2030, 1, 1))
    assert _stored(everything, None)["appeals"] == 2
    assert _stored(everything, None) == _live(everything, None)


def test_the_red_black_lists_and_the_bulletin_carry_the_live_figures(month, settings):
    """What a ranking and a bulletin keep, read from the stored rows, equals the live computation
    from the source tables on the generated month: every unit of the three tiers and the bulletin's
    totals, bureau and department rows and channel split."""
    from analytics import services
    from analytics.metrics import total_metrics

    aggregates.refresh_marked()
    settings.ANALYTICS_REFRESH_ON_READ = False
    october = PERIODS[0]
    for tier in ("station", "district", "department"):
        ranking = services.compute_ranking(month=october.first, tier=tier)
        assert ranking.entries.exists()
        for entry in ranking.entries.select_related("unit"):
            assert entry.figures == total_metrics(october, within=entry.unit).as_dict(), (tier, entry.unit)
    bulletin, _created = services.generate_bulletin(kind="monthly", on=october.first)
    content = bulletin.content
    assert (content["period"]["first"], content["period"]["until"]) == (
        october.first.isoformat(),
        october.until.isoformat(),
    )
    assert content["totals"] == total_metrics(october).as_dict()
    assert content["units"]
    for row in content["units"]:
        live = total_metrics(october, within=Unit.objects.get(pk=row["unit_id"])).as_dict()
        assert {k: row[k] for k in live} == live, row["name"]
    assert {c["code"]: c["n"] for c in content["channels"] if c["n"]} == dict(_live_channels(october, None))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_a_dashboard_reads_its_own_nodes_rows_not_every_nodes_days():
    """A dashboard's figures (its root, its hundred rows, the city) read those nodes' day and month
    rows, whatever the province holds: 3,000 nodes fill every day and month here, and the read of a
    month to date, of a quarter and of a whole month stays at the hundred nodes' own rows (the day
    index with a filter on the nodes read every node's days of the range)."""
    ints = ", ".join(aggregates.INT_FIELDS)
    maps = ", ".join(aggregates.JSON_FIELDS)
    ones = ", ".join("1" for _ in aggregates.INT_FIELDS)
    empty = ", ".join("'{}'::jsonb" for _ in aggregates.JSON_FIELDS)
    # A month row holds the sum of its days: 1 a day.
    month_sums = ", ".join(
        "extract(day FROM d + interval '1 month' - interval '1 day')::int" for _ in aggregates.INT_FIELDS
    )
    # Nodes that are not units: the foreign key is checked at the end of the test, by when the
    # rows are gone again.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO analytics_treedayfigures (day, node_id, path, {ints}, {maps})
                SELECT d::date, n, '', {ones}, {empty}
                FROM generate_series(date '2026-07-01', date '2026-12-31', interval '1 day') d,
                     generate_series(9000001, 9003000) n"""
        )
        cursor.execute(
            f"""INSERT INTO analytics_treemonthfigures (day, node_id, path, {ints}, {maps})
                SELECT d::date, n, '', {month_sums}, {empty}
                FROM generate_series(date '2026-07-01', date '2026-12-01', interval '1 month') d,
                     generate_series(9000001, 9003000) n"""
        )
        cursor.execute("ANALYZE analytics_treedayfigures")
        cursor.execute("ANALYZE analytics_treemonthfigures")
    statements = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    for period in (
        Period(dt.date(2026, 12, 1), dt.date(2026, 12, 9)),
        Period(dt.date(2026, 10, 1), dt.date(2026, 12, 9)),
        month_of(dt.date(2026, 11, 1)),
    ):
        statements.clear()
        with connection.execute_wrapper(keep):
            counts = aggregates.stored_counts(period, [None, *range(9000001, 9000101)])
        assert counts[9000001]["appeals"] == (period.until - period.first).days
        ((sql, params),) = statements
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        plan = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
        scans = [n for n in _plan_nodes(plan) if n.get("Relation Name", "").startswith("analytics_tree")]
        read = sum(
            n.get("Actual Rows", 0) * n.get("Actual Loops", 1) + n.get("Rows Removed by Filter", 0) for n in scans
        )
        # 101 nodes × (8 days, or 2 months and 8 days, or a month): at most 1,111 rows; every
        # node's days of December alone are 24,000.
        assert scans and read <= 1200, (period, [(n.get("Index Name"), n.get("Actual Rows")) for n in scans])
    TreeDayFigures.objects.filter(node_id__gte=9000001).delete()
    TreeMonthFigures.objects.filter(node_id__gte=9000001).delete()


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)
