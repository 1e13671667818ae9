"""Bulk moves on the workspace and the review list: the same services as one by one, a result
per order, a refusal leaves the others done."""

from urllib.parse import unquote

import pytest
from django.urls import reverse

from workorders import services
from workorders.models import WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def five(make_appeal, station, center):
    return [services.dispatch_appeal(make_appeal(), unit=station, actor=center) for _ in range(5)]


def test_bulk_sign_signs_each_order_and_refuses_one_of_another_station(client, handler, five, other_station):
    moved = five[2]
    # The list was stale: that order now belongs to another station.
    moved.unit = other_station
    moved.save()
    client.force_login(handler)
    response = client.post(reverse("workorders:bulk", args=["sign"]), {"ids": [o.pk for o in five]}, **HTMX)
    assert response.status_code == 200
    results = {r["pk"]: r for r in response.context["results"]}
    assert [results[o.pk]["ok"] for o in five] == [True, True, False, True, True]
    statuses = dict(WorkOrder.objects.values_list("pk", "status"))
    assert [statuses[o.pk] for o in five] == ["signed", "signed", "dispatched", "signed", "signed"]
    # Timeline rows and the handler exactly as a one-by-one sign writes them.
    signed = WorkOrder.objects.get(pk=five[0].pk)
    assert signed.handler_id == handler.pk
    assert WorkOrderEvent.objects.filter(order=signed, action="sign", actor=handler).count() == 1
    assert 'data-ok="0"' in response.content.decode()


def test_bulk_start_reports_an_order_in_the_wrong_state(client, handler, five):
    for order in five[:3]:
        services.sign_for(order, actor=handler)
    client.force_login(handler)
    response = client.post(reverse("workorders:bulk", args=["start"]), {"ids": [o.pk for o in five[:4]]}, **HTMX)
    oks = [r["ok"] for r in response.context["results"]]
    assert oks == [True, True, True, False]
    assert "不能" in response.context["results"][3]["text"]


def test_bulk_approve_on_the_review_list_is_center_only(client, handler, center, five):
    for order in five[:2]:
        services.sign_for(order, actor=handler)
        services.submit_feedback(
            order, actor=handler, text="已到现场处理完毕", result="resolved", contact_method="phone"
        )
    ids = [o.pk for o in five[:3]]
    client.force_login(handler)
    refused = client.post(reverse("workorders:bulk", args=["approve"]), {"ids": ids}, **HTMX)
    assert not any(r["ok"] for r in refused.context["results"])
    client.force_login(center)
    response = client.post(reverse("workorders:bulk", args=["approve"]), {"ids": ids}, **HTMX)
    assert [r["ok"] for r in response.context["results"]] == [True, True, False]
    assert WorkOrder.objects.filter(status="approved").count() == 2


def test_without_htmx_it_goes_back_to_the_list_with_its_filters(client, handler, five):
    client.force_login(handler)
    back = reverse("workorders:workspace") + "?tab=to_sign&q=烧烤"
    response = client.post(reverse("workorders:bulk", args=["sign"]), {"ids": [five[0].pk], "next": back})
    assert response.status_code == 302 and unquote(response["Location"]) == back
    evil = client.post(reverse("workorders:bulk", args=["sign"]), {"ids": [five[1].pk], "next": "//evil.example"})
    assert evil["Location"] == reverse("workorders:workspace")


def test_the_workspace_offers_the_bulk_bar_and_keeps_filters_in_tabs(client, handler, five):
    client.force_login(handler)
    page = client.get(reverse("workorders:workspace"), {"tab": "to_sign", "q": "烧烤"}).content.decode()
    assert 'data-testid="bulk-sign"' in page and 'form="order-bulk"' in page
    assert "?q=%E7%83%A7%E7%83%A4&amp;tab=in_progress" in page or "q=%E7%83%A7%E7%83%A4&amp;tab=" in page
