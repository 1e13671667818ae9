"""Filters survive everything: from a list (its filters, tab and page in the URL) to an order and
through its moves, the way back leads to the same view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

LIST = "/workorders/?tab=to_sign&severity=yellow&q=%E7%83%A7%E7%83%A4"


def _back_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["back"][0]


def test_the_workspace_links_each_order_with_the_way_back(client, handler, order):
    client.force_login(handler)
    page = client.get(LIST).content.decode()
    assert f"/workorders/{order.pk}/?back=" in page
    detail = client.get(reverse("workorders:detail", args=[order.pk]), {"back": LIST}).content.decode()
    assert f'href="{LIST.replace("&", "&amp;")}" data-testid="back-to-list"' in detail
    assert f'name="back" value="{LIST.replace("&", "&amp;")}"' in detail


def test_a_move_keeps_the_way_back_to_the_filtered_list(client, handler, order):
    client.force_login(handler)
    response = client.post(reverse("workorders:move", args=[order.pk, "sign"]), {"back": LIST})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/workorders/{order.pk}/?back=")
    assert _back_of(response["Location"]) == LIST
    assert WorkOrder.objects.get(pk=order.pk).status == "signed"
    # htmx gets the same place as its redirect.
    started = client.post(
        reverse("workorders:move", args=[order.pk, "start"]), {"back": LIST}, headers={"HX-Request": "true"}
    )
    assert _back_of(started["HX-Redirect"]) == LIST


def test_a_refused_move_keeps_the_way_back(client, handler, order):
    client.force_login(handler)
    client.post(reverse("workorders:move", args=[order.pk, "sign"]))
    client.post(reverse("workorders:move", args=[order.pk, "start"]))
    refused = client.post(reverse("workorders:move", args=[order.pk, "submit-feedback"]), {"text": "", "back": LIST})
    assert refused.status_code == 422
    assert f'href="{LIST.replace("&", "&amp;")}" data-testid="back-to-list"' in refused.content.decode()


def test_a_foreign_way_back_is_ignored(client, handler, order):
    client.force_login(handler)
    detail = client.get(reverse("workorders:detail", args=[order.pk]), {"back": "//evil.example/"}).content.decode()
    assert 'href="/workorders/" data-testid="back-to-list"' in detail
    response = client.post(reverse("workorders:move", args=[order.pk, "sign"]), {"back": "https://evil.example/"})
    assert response["Location"] == f"/workorders/{order.pk}/"


def test_dispatch_from_the_appeal_page_passes_on_the_desks_filters(client, center, appeal, station):
    desk = "/appeals/?status=new&severity=yellow"
    client.force_login(center)
    page = client.get(reverse("intake:appeal", args=[appeal.pk]), {"back": desk}).content.decode()
    assert f'name="back" value="{desk.replace("&", "&amp;")}"' in page
    response = client.post(
        reverse("workorders:dispatch", args=[appeal.pk]), {"unit": station.pk, "back": desk, "next": "/x/"}
    )
    order = WorkOrder.objects.get(appeal=appeal)
    assert response["Location"].startswith(f"/workorders/{order.pk}/?back=")
    assert _back_of(response["Location"]) == desk
