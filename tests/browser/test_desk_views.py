"""Filters survive everything, in a real browser: the desk filtered, an appeal opened, acted on,
and back to the same filters and tab; a filter set saved as a tab (我的视图), renamed and
deleted; the units of the panel picked by typing, never by Ctrl+click; answer-and-close from the
panel with the reply prefilled from the category's template."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from intake.models import Appeal
from units.models import SavedView
from workorders.models import JurisdictionRule, ReplyTemplate

from .appeals import desk_appeal

pytestmark = pytest.mark.django_db(transaction=True)


def _on_the_desk(url: str) -> bool:
    return urlsplit(url).path == "/appeals/"


def _query(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def _filter_the_desk(page, live_server):
    page.goto(f"{live_server.url}/appeals/")
    page.fill("[data-testid=desk-filters] input[name=q]", "烧烤")
    page.click("[data-testid=desk-filters] button[type=submit]")
    page.wait_for_url(lambda url: "/appeals/?" in url and "q=" in url)
    assert page.locator("[data-testid=appeal-row]").count() == 3


def _same_view(page):
    query = _query(page.url)
    assert query.get("q") == ["烧烤"] and query.get("status") == ["new"], page.url
    assert page.locator("[data-testid=desk-filters] input[name=q]").input_value() == "烧烤"
    assert page.locator("[data-testid=status-tabs] a.active").get_attribute("data-status") == "new"


def test_acting_on_an_appeal_from_the_filtered_desk_comes_back_to_the_same_view(signed_in, live_server, station):
    JurisdictionRule.objects.create(kind="street", pattern="滨江路", unit=station)
    queue = [desk_appeal(i) for i in range(3)]
    desk_appeal(50, content="别处的诉求：小区停车难", address="临江市江南区")
    ctx, page = signed_in("center")
    _filter_the_desk(page, live_server)
    # Open the first appeal in the panel, then its full page; act there (待派单).
    page.click(f"#appeal-row-{queue[0].pk} [data-open]")
    page.wait_for_selector(f"[data-testid=desk-panel-appeal][data-appeal='{queue[0].pk}']")
    page.click("[data-testid=panel-full-page]")
    page.wait_for_url(lambda url: f"/appeals/{queue[0].pk}/" in url and "back=" in url)
    page.click("[data-testid=mark-for-dispatch]")
    page.wait_for_url(_on_the_desk)
    _same_view(page)
    assert Appeal.objects.get(pk=queue[0].pk).status == "pending_dispatch"
    assert page.locator("[data-testid=appeal-row]").count() == 2
    # Open the next one, read its page, and come back with its "返回分诊台" button.
    page.click(f"#appeal-row-{queue[1].pk} [data-open]")
    page.wait_for_selector(f"[data-testid=desk-panel-appeal][data-appeal='{queue[1].pk}']")
    page.click("[data-testid=panel-full-page]")
    page.wait_for_url(lambda url: f"/appeals/{queue[1].pk}/" in url and "back=" in url)
    page.click("[data-testid=back-to-desk]")
    page.wait_for_url(_on_the_desk)
    _same_view(page)


def test_answer_and_close_from_the_panel_with_the_template_prefilled(signed_in, live_server, station):
    ReplyTemplate.objects.create(category=None, text="您反映的问题（{code}）已答复：")
    queue = [desk_appeal(i) for i in range(3)]
    ctx, page = signed_in("center")
    _filter_the_desk(page, live_server)
    page.click(f"#appeal-row-{queue[2].pk} [data-open]")
    page.wait_for_selector(f"[data-testid=desk-panel-appeal][data-appeal='{queue[2].pk}']")
    page.click("[data-testid=panel-close-appeal]")
    reply = page.locator("[data-testid=panel-reply]")
    assert reply.input_value() == f"您反映的问题（{queue[2].tracking_code}）已答复："
    reply.fill(reply.input_value() + "已联系城管部门依法处理。")
    page.click("[data-testid=panel-close-submit]")
    page.wait_for_url(_on_the_desk)
    _same_view(page)
    closed = Appeal.objects.get(pk=queue[2].pk)
    assert closed.status == "closed" and closed.public_reply.endswith("已联系城管部门依法处理。")


def test_a_filter_set_saved_as_my_view_becomes_a_tab(signed_in, live_server, center):
    for i in range(3):
        desk_appeal(i)
    desk_appeal(50, content="别处的诉求：小区停车难", address="临江市江南区")
    ctx, page = signed_in("center")
    _filter_the_desk(page, live_server)
    page.click("[data-testid=save-view]")
    page.fill("[data-testid=save-view-form] input[name=name]", "夜市烧烤")
    page.click("[data-testid=save-view-form] button[type=submit]")
    page.wait_for_selector("[data-testid=saved-view].active")
    assert page.locator("[data-testid=saved-view].active").inner_text() == "夜市烧烤"
    # From the plain desk, the tab opens the same filtered list.
    page.goto(f"{live_server.url}/appeals/")
    assert page.locator("[data-testid=appeal-row]").count() == 4
    page.click("[data-testid=saved-view]")
    page.wait_for_url(lambda url: "/appeals/?" in url and "q=" in url)
    assert page.locator("[data-testid=appeal-row]").count() == 3
    assert page.locator("[data-testid=saved-view].active").count() == 1
    # Rename, then delete, on the management page.
    page.click("[data-testid=manage-views]")
    page.fill("[data-testid=saved-view-row] input[name=name]", "烧烤噪音")
    page.click("[data-testid=saved-view-row] button:has-text('重命名')")
    page.wait_for_selector("text=视图已重命名为“烧烤噪音”。")
    assert SavedView.objects.get(user=center).name == "烧烤噪音"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=saved-view-row] button:has-text('删除')")
    page.wait_for_selector("text=已删除视图“烧烤噪音”。")
    assert not SavedView.objects.filter(user=center).exists()


def test_the_panel_picks_units_by_typing_a_name(signed_in, live_server, station, other_station):
    JurisdictionRule.objects.create(kind="street", pattern="滨江路", unit=station)
    appeal = desk_appeal(1)
    ctx, page = signed_in("center")
    page.goto(f"{live_server.url}/appeals/?open={appeal.pk}")
    form = page.locator("[data-testid=desk-panel-form]")
    unit = form.locator("select[name=unit]")
    assert unit.input_value() == str(station.pk)
    # No Ctrl+click list anywhere: the assisting units are a filter box and checkboxes.
    assert form.locator("select[multiple]").is_hidden()
    box = form.locator("input[data-unit-filter=unit]")
    box.fill(other_station.name)
    box.press("Enter")
    assert unit.input_value() == str(other_station.pk)
    assisting = form.locator(".unit-picker .unit-picker-filter")
    assisting.fill(station.name)
    form.locator(".unit-picker label:visible input[type=checkbox]").first.check()
    form.locator("[data-testid=triage-dispatch]").click()
    page.wait_for_selector("[data-testid=panel-done]")
    order = appeal.work_orders.get()
    assert order.unit_id == other_station.pk
    assert list(order.assisting_units.values_list("pk", flat=True)) == [station.pk]
