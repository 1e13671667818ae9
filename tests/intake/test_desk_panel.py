"""Triage and dispatch on one screen: the desk's side panel and its one-request form."""

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Appeal, AppealEvent
from workorders.models import JurisdictionRule, WorkOrder

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "desk-panel"}


@pytest.fixture
def queue(make_appeal, station):
    """Three new appeals on 滨江路 (proposed: the station), oldest first, and one elsewhere."""
    JurisdictionRule.objects.create(pattern="滨江路", unit=station)
    now = timezone.now()
    made = [
        make_appeal(
            content=f"滨江路夜市烧烤噪音扰民第{i}次",
            address="临江市滨江路18号",
            received_at=now - timedelta(hours=9 - i),
        )
        for i in range(3)
    ]
    for a in made:
        Appeal.objects.filter(pk=a.pk).update(severity="yellow", severity_rank=2)
    return [Appeal.objects.get(pk=a.pk) for a in made]


def test_the_panel_opens_in_place_with_the_proposal_preselected(client, center, queue, station):
    client.force_login(center)
    url = reverse("intake:desk") + f"?status=new&q=烧烤&open={queue[0].pk}"
    partial = client.get(url, **HTMX)
    assert partial.status_code == 200
    html = partial.content.decode()
    assert "<html" not in html and 'data-testid="desk-panel-form"' in html
    assert f'<option value="{station.pk}" selected>' in html
    assert "研判并派单" in html and "研判并下一条" in html
    # The same URL loaded in full (back button, a shared link) is the desk with the panel open.
    full = client.get(url)
    page = full.content.decode()
    assert 'data-testid="desk"' in page and 'data-testid="desk-panel-form"' in page
    # A bad or invisible "open" is no error: the desk without a panel.
    assert client.get(reverse("intake:desk") + "?open=abc").status_code == 200
    assert client.get(reverse("intake:desk") + "?open=999999", **HTMX).status_code == 404


def test_triage_and_dispatch_is_one_request_in_one_transaction(client, center, queue, station, categories):
    client.force_login(center)
    appeal = queue[0]
    response = client.post(
        reverse("workorders:triage_dispatch", args=[appeal.pk]),
        {
            "kind": "complaint",
            "category": categories["ORDER-NOISE"].pk,
            "severity": "orange",
            "unit": station.pk,
            "working_days": "",
            "note": "请尽快核实",
            "then": "close",
            "queue": "status=new&q=烧烤",
        },
        **HTMX,
    )
    assert response.status_code == 200
    appeal.refresh_from_db()
    assert appeal.status == "dispatched" and appeal.severity == "orange" and appeal.unit_id == station.pk
    order = WorkOrder.objects.get(appeal=appeal)
    assert order.unit_id == station.pk and order.note == "请尽快核实"
    actions = list(AppealEvent.objects.filter(appeal=appeal).values_list("action", flat=True))
    assert "triaged" in actions and "dispatched" in actions
    # The list keeps its filters: the pushed URL is the queue without the panel.
    pushed = urlsplit(response["HX-Push-Url"])
    assert pushed.path == reverse("intake:desk") and parse_qs(pushed.query) == {"status": ["new"], "q": ["烧烤"]}
    # The dispatched row is updated in place (out of band), the list is not reloaded.
    assert f'id="appeal-row-{appeal.pk}"' in response.content.decode()
    assert "hx-swap-oob" in response.content.decode()


def test_triage_and_next_opens_the_next_appeal_of_the_same_queue(client, center, queue, station):
    client.force_login(center)
    response = client.post(
        reverse("workorders:triage_dispatch", args=[queue[0].pk]),
        {"kind": "complaint", "severity": "yellow", "unit": station.pk, "then": "next", "queue": "status=new"},
        **HTMX,
    )
    assert response.status_code == 200
    assert WorkOrder.objects.filter(appeal=queue[0]).exists()
    pushed = parse_qs(urlsplit(response["HX-Push-Url"]).query)
    assert pushed == {"status": ["new"], "open": [str(queue[1].pk)]}
    assert f'data-appeal="{queue[1].pk}"' in response.content.decode()


def test_a_refused_dispatch_saves_nothing_and_keeps_the_input(client, center, queue, station, other_station):
    from workorders.services import dispatch_appeal

    client.force_login(center)
    appeal = queue[0]
    # Already out to another station: the dispatch refuses after the triage has run.
    dispatch_appeal(appeal, unit=other_station, actor=center)
    response = client.post(
        reverse("workorders:triage_dispatch", args=[appeal.pk]),
        {"kind": "complaint", "severity": "red", "unit": station.pk, "note": "夜班优先", "then": "close"},
        **HTMX,
    )
    html = response.content.decode()
    assert "夜班优先" in html
    appeal.refresh_from_db()
    # Triage and dispatch are one transaction: the severity did not change either.
    assert appeal.severity == "yellow"
    assert "已有办理中的工单" in html
    assert list(WorkOrder.objects.filter(appeal=appeal).values_list("unit_id", flat=True)) == [other_station.pk]


def test_unit_users_cannot_triage_and_dispatch(client, handler, queue, station):
    client.force_login(handler)
    response = client.post(
        reverse("workorders:triage_dispatch", args=[queue[0].pk]),
        {"kind": "complaint", "severity": "red", "unit": station.pk, "then": "close"},
    )
    assert response.status_code in (403, 404)
    assert not WorkOrder.objects.exists()


def test_actions_on_the_appeal_page_return_to_a_local_next(client, center, queue):
    client.force_login(center)
    appeal = queue[0]
    back = reverse("intake:desk") + "?status=new&q=烧烤"
    response = client.post(reverse("intake:mark_for_dispatch", args=[appeal.pk]), {"note": "", "next": back})
    assert response.status_code == 302 and unquote(response["Location"]) == back
    other = client.post(reverse("intake:mark_for_dispatch", args=[queue[1].pk]), {"next": "https://evil.example/"})
    assert other["Location"] == reverse("intake:appeal", args=[queue[1].pk])


def test_the_appeal_page_leads_back_to_the_same_view(client, center, queue):
    client.force_login(center)
    back = reverse("intake:desk") + "?status=new&q=烧烤"
    page = client.get(reverse("intake:appeal", args=[queue[0].pk]), {"back": back, "act": "close"}).content.decode()
    assert f'href="{back.replace("&", "&amp;")}" data-testid="back-to-desk"' in page
    assert f'name="next" value="{back.replace("&", "&amp;")}"' in page
    hostile = client.get(reverse("intake:appeal", args=[queue[0].pk]), {"back": "//evil.example/x"}).content.decode()
    assert 'href="/appeals/" data-testid="back-to-desk"' in hostile
    assert 'name="next" value="//evil' not in hostile
