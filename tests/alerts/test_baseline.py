"""The surge baseline read from stored daily counts: exact, bounded, and kept honest by changes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import baseline, services
from alerts.choices import Detector
from alerts.models import Alert, CountedDay, PlaceDayCount
from intake.models import Appeal, Category

from .test_detectors import NOW, _appeal, _background

pytestmark = pytest.mark.django_db


@pytest.fixture
def noise_category():
    return Category.objects.create(code="T-NOISE", name="噪音扰民")


def _live_count(place, category, start, end):
    """The baseline the old way: every appeal of the period, keyed in Python."""
    from alerts.places import place_key

    rows = Appeal.objects.filter(received_at__gte=start, received_at__lt=end, merged_into__isnull=True)
    return sum(1 for a in rows if place_key(a.address) == place and a.category_id == category.pk)


def test_it_counts_the_period_exactly_from_whole_days_and_the_two_partial_ends(noise_category, station):
    _background(noise_category, station, days=30, per_day=3)
    start, end = NOW - dt.timedelta(days=29, hours=5), NOW - dt.timedelta(hours=24)
    key = ("滨江路", noise_category.pk)
    found = baseline.baseline_counts({key}, start=start, end=end)
    assert found[key] == _live_count("滨江路", noise_category, start, end) > 0
    # The whole days in between are stored rows, one per day and place.
    assert PlaceDayCount.objects.filter(place="滨江路", category_id=noise_category.pk).count() >= 27


def test_a_second_run_counts_no_day_again_and_reads_a_bounded_number_of_rows(noise_category, station):
    _background(noise_category, station, per_day=2)
    for h in range(1, 9):
        _appeal(at=NOW - dt.timedelta(hours=h), category=noise_category, unit=station)
    services.run_detectors(now=NOW, only=[Detector.SURGE])
    counted = dict(CountedDay.objects.values_list("day", "counted_at"))
    assert len(counted) >= 27

    later = NOW + dt.timedelta(minutes=5)
    with CaptureQueriesContext(connection) as queries:
        services.run_detectors(now=later, only=[Detector.SURGE])
    assert dict(CountedDay.objects.values_list("day", "counted_at")) == counted  # nothing counted twice
    # The window, the rule, the day versions, the two partial days and the stored rows: no scan of
    # four weeks of appeals (which was one statement over ~60 appeals here, ~80 000 in a province).
    appeal_reads = [q["sql"] for q in queries.captured_queries if 'FROM "intake_appeal"' in q["sql"]]
    assert 1 <= len(appeal_reads) <= 3, appeal_reads
    for sql in appeal_reads:
        moments = [
            dt.datetime.fromisoformat(m) for m in re.findall(r"'(\d{4}-\d\d-\d\d[ T][\d:.]+[+-]\d\d:\d\d)'", sql)
        ]
        assert len(moments) == 2 and max(moments) - min(moments) <= dt.timedelta(hours=24), sql


def test_a_reclassified_appeal_of_a_counted_day_is_counted_again(noise_category, station):
    _background(noise_category, station, per_day=1)
    key = ("滨江路", noise_category.pk)
    start, end = NOW - dt.timedelta(days=28, hours=24), NOW - dt.timedelta(hours=24)
    before = baseline.baseline_counts({key}, start=start, end=end)[key]
    moved = Appeal.objects.filter(received_at__lt=NOW - dt.timedelta(days=5), category=noise_category).first()
    day = baseline.local_day(moved.received_at)
    assert not CountedDay.objects.get(day=day).is_stale
    other = Category.objects.create(code="T-OTHER", name="其他")
    moved.category = other
    moved.save()
    assert CountedDay.objects.get(day=day).is_stale
    assert baseline.baseline_counts({key}, start=start, end=end)[key] == before - 1
    assert not CountedDay.objects.get(day=day).is_stale


def test_an_unrelated_save_does_not_make_the_day_stale(noise_category, station):
    _background(noise_category, station, days=3, per_day=1)
    key = ("滨江路", noise_category.pk)
    baseline.baseline_counts({key}, start=NOW - dt.timedelta(days=4), end=NOW)
    appeal = Appeal.objects.filter(category=noise_category).order_by("received_at").first()
    appeal.title = "改了标题"
    appeal.save()
    assert not CountedDay.objects.get(day=baseline.local_day(appeal.received_at)).is_stale


def test_the_injected_surge_still_raises_one_alert_against_the_stored_baseline(noise_category, station):
    _background(noise_category, station, per_day=1)
    for h in range(1, 9):
        _appeal(at=NOW - dt.timedelta(hours=h), category=noise_category, unit=station)
    assert services.run_detectors(now=NOW, only=[Detector.SURGE]) == {Detector.SURGE: 1}
    assert Alert.objects.get().expected == pytest.approx(1.0)


def test_it_prunes_days_no_baseline_reaches(noise_category, station):
    _background(noise_category, station, days=3, per_day=1)
    key = ("滨江路", noise_category.pk)
    baseline.baseline_counts({key}, start=NOW - dt.timedelta(days=4), end=NOW)
    assert PlaceDayCount.objects.exists()
    baseline.prune(before=baseline.local_day(NOW))
    assert not PlaceDayCount.objects.exists() and not CountedDay.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_runs_counting_the_same_day_keep_one_count(noise_category, station):
    """A run that finds the day's rows written by an overlapping run meanwhile keeps those."""
    import threading

    from django.db import connections, transaction

    _background(noise_category, station, days=3, per_day=2)
    day = baseline.local_day(NOW - dt.timedelta(days=2))
    written, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with transaction.atomic():
                PlaceDayCount.objects.create(day=day, place="滨江路", category_id=noise_category.pk, appeals=2)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_run)
    other.start()
    written.wait(10)
    threading.Timer(0.5, release.set).start()  # the other run commits while this one waits on it
    assert baseline.count_day(day) == 0
    other.join(10)
    assert list(PlaceDayCount.objects.filter(day=day).values_list("place", "appeals")) == [("滨江路", 2)]
