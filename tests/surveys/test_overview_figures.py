"""The evaluation overview's rating figures: verdict counts and the satisfaction rate (basic counts
as satisfied, a declined answer is no verdict), for the whole scope and per rated unit, read from
the analytics' kept day rows once the minute job has folded the ratings in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import aggregates
from analytics.panels import kept_rating_figures, kept_unit_rating_figures, satisfaction_panel
from surveys.choices import Verdict
from surveys.models import Rating

pytestmark = pytest.mark.django_db

COUNTS = ("total", "satisfied", "basic", "dissatisfied", "declined")


def _rate(unit, *verdicts, days_ago: int = 0):
    for verdict in verdicts:
        Rating.objects.create(unit=unit, verdict=verdict, rated_at=timezone.now() - dt.timedelta(days=days_ago))


def _last_30_days():
    today = timezone.localdate()
    return {"first": today - dt.timedelta(days=30), "until": today + dt.timedelta(days=1)}


def test_the_rate_counts_basic_as_satisfied_and_leaves_declined_answers_out(center, station, other_station):
    _rate(station, Verdict.SATISFIED, Verdict.BASIC, Verdict.DISSATISFIED, Verdict.DECLINED)
    _rate(other_station, Verdict.SATISFIED, Verdict.SATISFIED)
    _rate(other_station, Verdict.DISSATISFIED, days_ago=40)  # before the period
    assert kept_rating_figures(center, **_last_30_days())["total"] == 0  # not yet folded in
    aggregates.refresh_marked()

    figures = kept_rating_figures(center, **_last_30_days())
    assert {k: figures[k] for k in COUNTS} == {"total": 6, "satisfied": 3, "basic": 1, "dissatisfied": 1, "declined": 1}
    assert figures["rate"] == 80.0  # (3 + 1) of the 5 with a verdict

    units = kept_unit_rating_figures(center, **_last_30_days())
    assert [(u["unit__name"], u["total"], u["rate"]) for u in units] == [
        (station.name, 4, 66.7),  # the worst rate first
        (other_station.name, 2, 100.0),
    ]


def test_a_unit_user_sees_his_subtree_only(handler, station, other_station):
    _rate(station, Verdict.SATISFIED)
    _rate(other_station, Verdict.DISSATISFIED)
    aggregates.refresh_marked()
    assert [u["unit__name"] for u in kept_unit_rating_figures(handler, **_last_30_days())] == [station.name]
    assert kept_rating_figures(handler, **_last_30_days())["total"] == 1


def test_without_any_verdict_there_is_no_rate(center, station):
    _rate(station, Verdict.DECLINED)
    aggregates.refresh_marked()
    today = timezone.localdate()
    assert kept_rating_figures(center, first=today, until=today + dt.timedelta(days=1))["rate"] is None
    assert kept_unit_rating_figures(center, first=today, until=today + dt.timedelta(days=1))[0]["rate"] is None
    tomorrow = today + dt.timedelta(days=1)
    assert kept_rating_figures(center, first=tomorrow, until=tomorrow + dt.timedelta(days=1)) == {
        "total": 0,
        "satisfied": 0,
        "basic": 0,
        "dissatisfied": 0,
        "declined": 0,
        "rate": None,
    }


def test_the_overview_reads_kept_rows_not_the_ratings(client, center, station):
    """A province rates some five million times in 30 days: the overview never reads the ratings."""
    _rate(station, Verdict.SATISFIED, Verdict.DISSATISFIED)
    aggregates.refresh_marked()
    client.force_login(center)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/surveys/")
    assert page.status_code == 200
    html = page.content.decode()
    assert station.name in html and "50.0%" in html
    assert not [q["sql"] for q in ctx.captured_queries if '"surveys_rating"' in q["sql"]]


def test_the_home_panel_reads_the_kept_day_figures(rf, center, handler, station, other_station):
    """The home page's satisfaction panel (today, the last 7 days) reads the same kept day rows."""
    _rate(station, Verdict.SATISFIED, Verdict.BASIC, Verdict.DISSATISFIED, Verdict.DECLINED)
    _rate(other_station, Verdict.SATISFIED, Verdict.DISSATISFIED, days_ago=3)
    _rate(other_station, Verdict.DISSATISFIED, days_ago=9)  # before the week
    request = rf.get("/")
    request.user = center
    assert satisfaction_panel(request)["today"]["total"] == 0  # not yet folded in by the minute job
    aggregates.refresh_marked()
    panel = satisfaction_panel(request)
    assert {k: panel["today"][k] for k in COUNTS} == {
        "total": 4,
        "satisfied": 1,
        "basic": 1,
        "dissatisfied": 1,
        "declined": 1,
    }
    assert (panel["week"]["total"], panel["week"]["rate"]) == (6, 60.0)  # 3 of the 5 with a verdict
    request.user = handler
    assert satisfaction_panel(request)["week"]["total"] == 4  # his station's only


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_the_per_unit_table_reads_the_rated_days_alone(center, station):
    """A unit's day row exists for any fact (an appeal, an order due…); the table reads only the
    rows holding a rating, on their partial index, not every unit's 30 days."""
    import json

    from analytics.models import UnitDayFigures
    from units.models import Unit

    today = timezone.localdate()
    units = list(Unit.objects.all()[:10])
    UnitDayFigures.objects.bulk_create(
        UnitDayFigures(unit=u, day=today - dt.timedelta(days=d), appeals=3, satisfied=int(d % 45 == 5 and u == station))
        for u in units
        for d in range(1, 1000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_unitdayfigures")
    with CaptureQueriesContext(connection) as ctx:
        rows = kept_unit_rating_figures(center, **_last_30_days())
    assert [(r["unit__name"], r["satisfied"]) for r in rows] == [(station.name, 1)]  # 5 days ago; 50, 95… are outside
    sql = next(q["sql"] for q in ctx.captured_queries if "analytics_unitdayfigures" in q["sql"])
    assert sql.rstrip().endswith("LIMIT 30")  # ordered in the database: 30 units come back, not every rated one
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        raw = cursor.fetchone()[0]
    plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    scans = [n for n in nodes(plan) if "Scan" in n["Node Type"]]
    assert any(n.get("Index Name") == "unit_day_figures_rated" for n in scans), scans
    assert sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans) <= 5, scans
