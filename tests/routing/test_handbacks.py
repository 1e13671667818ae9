"""The monthly hand-back figures (退单率) are kept as orders are dispatched and handed back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from routing.models import HandbackMonth
from routing.selectors import handback_before_after, handback_rates
from routing.services import rebuild_handback_months
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def _new_appeal(category=None):
    from intake.models import Appeal

    return Appeal.objects.create(channel="hotline", content="小区门口夜间施工噪音扰民", category=category)


def test_a_dispatch_and_a_hand_back_are_counted_once_in_the_month_of_dispatch(center, handler, station):
    from workorders import services

    order = services.dispatch_appeal(_new_appeal(), unit=station, actor=center)
    month = HandbackMonth.objects.get()
    assert (month.dispatched, month.handed_back) == (1, 0)
    assert month.month == timezone.localtime(order.dispatched_at).date().replace(day=1)
    services.hand_back(order, actor=handler, reason="不属于本所辖区")
    month.refresh_from_db()
    assert (month.dispatched, month.handed_back) == (1, 1)
    rows = handback_rates(months=1)
    assert rows == [{"month": month.month, "total": 1, "handed_back": 1, "rate": 1.0, "phase": None}]


def test_the_kept_figures_equal_a_recount_of_the_generated_history(history):
    """The history is written in bulk (no signals); generate() recounts, and the figures match
    the orders themselves."""
    kept = {m.month: (m.dispatched, m.handed_back) for m in HandbackMonth.objects.all()}
    assert sum(d for d, _h in kept.values()) == WorkOrder.objects.count()
    HandbackMonth.objects.all().delete()
    assert rebuild_handback_months() == len(kept)
    assert {m.month: (m.dispatched, m.handed_back) for m in HandbackMonth.objects.all()} == kept


def test_the_rate_reads_kept_rows_not_the_orders(history, django_assert_num_queries):
    with django_assert_num_queries(2):  # when the first model went live, and the months
        figures = handback_before_after(months=4)
    assert figures["rows"] and figures["before"] is None and figures["after"] is None


def test_a_recount_from_a_month_keeps_the_earlier_months(history):
    months = list(HandbackMonth.objects.order_by("month"))
    HandbackMonth.objects.filter(pk=months[0].pk).update(dispatched=99999)
    rebuild_handback_months(since=months[-1].month)
    assert HandbackMonth.objects.get(pk=months[0].pk).dispatched == 99999


def test_the_routing_page_shows_the_time_split_figures_beside_the_rules_and_the_kept_rates(trained, center, client):
    from django.urls import reverse

    client.force_login(center)
    body = client.get(reverse("routing:overview")).content.decode()
    assert f'data-testid="unit-top1">{round(trained.unit_top1 * 100)}%<' in body
    assert f"规则 {round(trained.rules_unit_top1 * 100)}%" in body
    months = HandbackMonth.objects.filter(dispatched__gt=0).count()
    assert months and body.count("<tr><td>") >= months  # one row per kept month
