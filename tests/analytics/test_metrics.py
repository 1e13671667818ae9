"""Every metric of SPEC §9 against hand-made data with an exact expected fraction."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.metrics import total_metrics, unit_metrics
from units.models import Unit

from .conftest import OCTOBER, at

pytestmark = pytest.mark.django_db


def test_it_counts_basically_satisfied_with_the_configured_weight(make, station, settings):
    for verdict, n in (("satisfied", 3), ("basic", 2), ("dissatisfied", 1), ("declined", 4)):
        for _ in range(n):
            make.rating(unit=station, verdict=verdict)
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.satisfaction.num, m.satisfaction.den) == (5, 6)  # declined is not a verdict
    assert m.satisfaction.rate == pytest.approx(5 / 6)

    settings.ANALYTICS_BASIC_SATISFIED_WEIGHT = 0.5
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert m.satisfaction.rate == pytest.approx((3 + 0.5 * 2) / 6)


def test_it_cuts_periods_at_local_midnight(make, station):
    make.rating(unit=station, verdict="dissatisfied", rated_at=at("2026-09-30", "23:59:59"))
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-10-01", "00:00"))
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-10-31", "23:59:59"))
    make.rating(unit=station, verdict="dissatisfied", rated_at=at("2026-11-01", "00:00"))
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.satisfaction.num, m.satisfaction.den) == (2, 2)


def test_it_computes_completion_over_orders_due_in_the_period(make, station):
    make.order(unit=station, due_at=at("2026-10-05"), status="closed", closed_at=at("2026-10-04"), closed_on_time=True)
    make.order(unit=station, due_at=at("2026-10-06"), status="closed", closed_at=at("2026-11-02"), closed_on_time=False)
    make.order(unit=station, due_at=at("2026-10-07"), status="in_progress")
    make.order(unit=station, due_at=at("2026-10-08"), status="handed_back")  # misrouted: not the unit's
    make.order(unit=station, due_at=at("2026-11-03"), status="dispatched")  # due next month
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.completion.num, m.completion.den) == (2, 3)


def test_it_computes_on_time_over_orders_closed_in_the_period(make, station):
    make.order(unit=station, due_at=at("2026-10-05"), status="closed", closed_at=at("2026-10-04"), closed_on_time=True)
    make.order(unit=station, due_at=at("2026-10-05"), status="closed", closed_at=at("2026-10-06"), closed_on_time=False)
    make.order(unit=station, due_at=at("2026-11-20"), status="closed", closed_at=at("2026-10-20"), closed_on_time=True)
    make.order(unit=station, due_at=at("2026-09-20"), status="closed", closed_at=at("2026-09-21"), closed_on_time=False)
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.on_time.num, m.on_time.den) == (2, 3)


def test_it_counts_only_callbacks_closed_resolved_as_resolution(make, station, settings):
    resolved = make.rating(unit=station, verdict="dissatisfied")
    make.callback(resolved, verdict="resolved")
    explained = make.rating(unit=station, verdict="dissatisfied")
    make.callback(explained, verdict="explained")
    pending = make.rating(unit=station, verdict="dissatisfied")
    make.callback(pending, closed=False)
    make.rating(unit=station, verdict="dissatisfied")  # no callback yet
    satisfied = make.rating(unit=station, verdict="satisfied")
    make.callback(satisfied, verdict="resolved")  # not a dissatisfied rating: never counts
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.resolution.num, m.resolution.den) == (1, 4)

    settings.ANALYTICS_RESOLVED_VERDICTS = ["resolved", "explained"]
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.resolution.num, m.resolution.den) == (2, 4)


def test_it_computes_the_repeat_complaint_rate(make, station):
    make.appeal(unit=station, is_repeat=True)
    make.appeal(unit=station, is_repeat=True)
    make.appeal(unit=station)
    make.appeal(unit=station)
    make.appeal(unit=station)
    make.appeal(unit=station, is_repeat=True, received_at=at("2026-11-02"))
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.repeat.num, m.repeat.den) == (2, 5)


def test_it_computes_the_reply_rate_over_delivered_evaluation_sms(make, station):
    make.evaluation_sms(unit=station, replied=True)
    make.evaluation_sms(unit=station, replied=False)
    make.evaluation_sms(unit=station, replied=False)
    make.evaluation_sms(unit=station, status="sent", replied=True)  # answered: delivered, whatever the report
    make.evaluation_sms(unit=station, status="failed")
    make.evaluation_sms(unit=station, replied=True, sent_at=at("2026-09-29"))
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert (m.reply.num, m.reply.den) == (2, 4)


def test_it_counts_escalations_from_12389_and_reopened_orders_once_each(make, station):
    make.appeal(unit=station, channel="12389")
    make.appeal(unit=station, channel="12389", received_at=at("2026-09-15"))  # earlier month
    order = make.order(unit=station, due_at=at("2026-10-05"), status="in_progress")
    make.reopen_event(order, when=at("2026-10-12"))
    make.reopen_event(order, when=at("2026-10-20"))  # reopened twice: still one appeal
    both = make.appeal(unit=station, channel="12389", received_at=at("2026-10-02"))
    make.reopen_event(make.order(unit=station, due_at=at("2026-10-09"), appeal=both), when=at("2026-10-11"))
    make.appeal(unit=station)
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert m.escalations == 3
    # appeals received in October: 12389, the reopened order's appeal (received 10-02), ``both``, the plain one
    assert m.appeals == 4
    assert (m.escalation.num, m.escalation.den) == (3, 4)


def test_it_rolls_a_district_up_from_its_stations_in_one_query_per_source(make, station, other_station, district):
    make.rating(unit=station, verdict="satisfied")
    make.rating(unit=other_station, verdict="dissatisfied")
    make.rating(unit=district, verdict="basic")
    south = Unit.objects.get(code="LJ201")
    make.rating(unit=south, verdict="dissatisfied")
    units = list(Unit.objects.filter(tier__in=["district", "station"]))
    with CaptureQueriesContext(connection) as queries:
        metrics = unit_metrics(OCTOBER, units)
    assert len(queries) <= 5  # ratings, orders, appeals, SMS, unit paths: never one per unit
    assert (metrics[district.pk].satisfaction.num, metrics[district.pk].satisfaction.den) == (2, 3)
    assert metrics[station.pk].satisfaction.den == 1
    assert metrics[south.parent_id].satisfaction.rate == 0


def test_it_counts_undispatched_appeals_only_city_wide(make, station, district):
    make.appeal(unit=None)
    make.appeal(unit=station)
    assert total_metrics(OCTOBER).appeals == 2
    assert total_metrics(OCTOBER, within=district).appeals == 1


def test_it_answers_none_when_there_is_nothing_to_measure(station, make):
    m = unit_metrics(OCTOBER, [station])[station.pk]
    assert m.satisfaction.rate is None and m.completion.rate is None and m.reply.rate is None
