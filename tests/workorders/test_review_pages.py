"""The center's review page pages each of its queues by keyset with a bounded count, so it costs the
same with 100 or 100,000 orders waiting (it used to render up to 600 rows: 200 per queue)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from workorders import services, views
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def _walk(client, first: str, name: str) -> list[int]:
    """Every row of one queue, page after page through its own cursor."""
    seen, url = [], first
    while True:
        response = client.get("/workorders/review/" + url)
        assert response.status_code == 200
        rows = response.context[name]
        assert len(rows) <= views.PAGE_SIZE
        seen += [o.pk for o in rows]
        url = response.context[f"{name}_next"]
        if not url:
            return seen


def test_it_pages_each_review_queue_by_keyset_through_ties(client, make_appeal, station, center, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    orders = [services.dispatch_appeal(make_appeal(), unit=station, actor=center) for _ in range(7)]
    # Ties on the sort column: the id decides, and no row is skipped or shown twice.
    same = timezone.now() - timedelta(hours=1)
    review = [o.pk for o in orders[:4]]
    approved = [o.pk for o in orders[4:]]
    WorkOrder.objects.filter(pk__in=review).update(status="feedback_submitted", feedback_at=same)
    WorkOrder.objects.filter(pk__in=approved).update(status="approved", updated_at=same)
    client.force_login(center)

    page = client.get("/workorders/review/")
    assert page.context["orders_count"] == "4" and page.context["approved_count"] == "3"
    assert page.context["extensions_count"] == "0" and not page.context["extensions_next"]
    assert "下一页" in page.content.decode()

    assert _walk(client, "", "orders") == sorted(review)
    assert _walk(client, "", "approved") == sorted(approved)
    # Paging one queue keeps the others on their first page.
    second = client.get("/workorders/review/" + page.context["orders_next"])
    assert [o.pk for o in second.context["approved"]] == sorted(approved)[:2]
    assert second.context["orders_first"]


def test_it_counts_a_long_queue_up_to_the_cap(client, make_appeal, station, center, monkeypatch):
    from workorders import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    orders = [services.dispatch_appeal(make_appeal(), unit=station, actor=center) for _ in range(3)]
    WorkOrder.objects.filter(pk__in=[o.pk for o in orders]).update(status="feedback_submitted")
    client.force_login(center)
    assert client.get("/workorders/review/").context["orders_count"] == "2+"
