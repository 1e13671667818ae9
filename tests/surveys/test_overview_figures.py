"""The evaluation overview's figures: verdict counts and the satisfaction rate (basic counts as
satisfied, a declined answer is no verdict), for the whole scope and per rated unit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from surveys.choices import Verdict
from surveys.models import Rating
from surveys.selectors import rating_figures, unit_figures

pytestmark = pytest.mark.django_db


def _rate(unit, *verdicts, days_ago: int = 0):
    for verdict in verdicts:
        Rating.objects.create(unit=unit, verdict=verdict, rated_at=timezone.now() - dt.timedelta(days=days_ago))


def test_the_rate_counts_basic_as_satisfied_and_leaves_declined_answers_out(center, station, other_station):
    _rate(station, Verdict.SATISFIED, Verdict.BASIC, Verdict.DISSATISFIED, Verdict.DECLINED)
    _rate(other_station, Verdict.SATISFIED, Verdict.SATISFIED)
    _rate(other_station, Verdict.DISSATISFIED, days_ago=40)  # before the period
    since = timezone.now() - dt.timedelta(days=30)

    figures = rating_figures(center, since=since)
    assert {k: figures[k] for k in ("total", "satisfied", "basic", "dissatisfied", "declined")} == {
        "total": 6,
        "satisfied": 3,
        "basic": 1,
        "dissatisfied": 1,
        "declined": 1,
    }
    assert figures["rate"] == 80.0  # (3 + 1) of the 5 with a verdict

    units = unit_figures(center, since=since)
    assert [(u["unit__name"], u["total"], u["rate"]) for u in units] == [
        (station.name, 4, 66.7),  # the worst rate first
        (other_station.name, 2, 100.0),
    ]


def test_without_any_verdict_there_is_no_rate(center, station):
    _rate(station, Verdict.DECLINED)
    since = timezone.now() - dt.timedelta(days=1)
    assert rating_figures(center, since=since)["rate"] is None
    assert unit_figures(center, since=since)[0]["rate"] is None
    assert rating_figures(center, since=timezone.now() + dt.timedelta(days=1)) == {
        "total": 0,
        "satisfied": 0,
        "basic": 0,
        "dissatisfied": 0,
        "declined": 0,
        "rate": None,
    }


def test_the_home_panel_reads_the_kept_day_figures_which_equal_the_ratings(rf, center, handler, station, other_station):
    """The home page's satisfaction panel (today, the last 7 days) reads the analytics' kept day
    rows of the user's subtree: once the minute job has run they equal the ratings themselves."""
    from analytics import aggregates
    from analytics.panels import satisfaction_panel

    _rate(station, Verdict.SATISFIED, Verdict.BASIC, Verdict.DISSATISFIED, Verdict.DECLINED)
    _rate(other_station, Verdict.SATISFIED, Verdict.DISSATISFIED, days_ago=3)
    _rate(other_station, Verdict.DISSATISFIED, days_ago=9)  # before the week
    request = rf.get("/")
    request.user = center
    assert satisfaction_panel(request)["today"]["total"] == 0  # not yet folded in by the minute job
    aggregates.refresh_marked()
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    for user in (center, handler):
        request.user = user
        panel = satisfaction_panel(request)
        assert panel["today"] == rating_figures(user, since=today)
        assert panel["week"] == rating_figures(user, since=today - dt.timedelta(days=7))
    request.user = center
    assert satisfaction_panel(request)["week"]["total"] == 6
