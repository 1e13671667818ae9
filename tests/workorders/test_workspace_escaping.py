"""Markup a citizen or an officer typed stays text on the workspace: the list, its tabs and filters,
the supervision mark, the menu badges and the bulk results show it escaped."""

import pytest
from django.urls import reverse

from workorders import services

pytestmark = pytest.mark.django_db
PAYLOAD = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def hostile_orders(make_appeal, station, center, city):
    station.name = f"{station.name}{PAYLOAD}"
    station.save(update_fields=["name"])
    titled = services.dispatch_appeal(make_appeal(title=PAYLOAD, content=PAYLOAD), unit=station, actor=center)
    untitled = services.dispatch_appeal(make_appeal(title="", content=PAYLOAD), unit=station, actor=center)
    services.list_order(titled, actor=None, reason=PAYLOAD)
    return [titled, untitled]


@pytest.mark.parametrize("who", ["handler", "center"])
@pytest.mark.parametrize("tab", ["", "all", "to_sign"])
def test_the_workspace_shows_typed_markup_as_text(client, request, hostile_orders, who, tab):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("workorders:workspace"), {"tab": tab} if tab else {})
    assert response.status_code == 200
    html = response.content.decode()
    assert PAYLOAD not in html
    assert "onerror=alert(1)>" not in html
    assert ESCAPED in html


def test_the_bulk_results_show_typed_markup_as_text(client, handler, hostile_orders):
    client.force_login(handler)
    response = client.post(
        reverse("workorders:bulk", args=["sign"]),
        {"ids": [o.pk for o in hostile_orders]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert PAYLOAD not in response.content.decode()
