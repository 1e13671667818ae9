"""A work order end to end in a real browser: the center dispatches from the appeal page, the station
handler signs and submits feedback with an attachment, the center approves and closes, and the
timeline shows every step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from workorders.models import JurisdictionRule, WorkOrder

from .appeals import waiting_appeal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def appeal(city, station):
    JurisdictionRule.objects.create(kind="street", pattern="滨江路", unit=station)
    return waiting_appeal("+8613800000301")


def test_it_dispatches_signs_feeds_back_approves_and_shows_the_timeline(signed_in, live_server, appeal, station):
    # The center dispatches from the appeal page; the station of the address is proposed.
    ctx, page = signed_in("center")
    page.goto(f"{live_server.url}/appeals/{appeal.pk}/")
    form = page.locator("[data-testid=dispatch-form]")
    assert form.locator("select[name=unit]").input_value() == str(station.pk)
    form.locator("textarea[name=note]").fill("请属地派出所核实处理")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/workorders/*/")
    order = WorkOrder.objects.get(appeal=appeal)
    assert page.locator("[data-testid=order-status]").inner_text() == "待签收"
    ctx.close()

    # The station handler finds it in his workspace, signs and submits feedback with a photo.
    ctx, page = signed_in("handler")
    page.goto(f"{live_server.url}/workorders/")
    page.click(f"text={order.number}")
    assert page.locator("[data-testid=masked-phone]").inner_text().startswith("138****0301")
    page.click("form[data-move=sign] button")
    expect(page.locator("[data-testid=order-status]")).to_have_text("已签收")
    feedback = page.locator("form[data-move=submit-feedback]")
    feedback.locator("textarea[name=text]").fill("已到现场核实，责令夜市摊主22点后停止营业，诉求人表示认可。")
    feedback.locator("select[name=result]").select_option("resolved")
    feedback.locator("select[name=contact_method]").select_option("phone")
    feedback.locator("input[name=attachments]").set_input_files(
        [{"name": "现场照片.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0demo"}]
    )
    feedback.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=order-status]")).to_have_text("待审核")
    assert "现场照片.jpg" in page.content()
    ctx.close()

    # The center approves from the review page, then closes on the order page.
    ctx, page = signed_in("center")
    page.goto(f"{live_server.url}/workorders/review/")
    page.locator(f"[data-order='{order.number}'] form[data-move=approve] button").click()
    page.wait_for_url(f"{live_server.url}/workorders/review/")
    page.goto(f"{live_server.url}/workorders/{order.pk}/")
    assert page.locator("[data-testid=order-status]").inner_text() == "审核通过"
    # The public reply is its own box, prefilled with the feedback to check; it is confirmed before closing.
    page.locator("form[data-move=close] textarea[name=reply]").fill("您反映的夜市油烟噪音问题已整改，感谢监督。")
    page.locator("form[data-move=close] input[name=confirm]").check()
    page.locator("form[data-move=close] button").click()
    expect(page.locator("[data-testid=order-status]")).to_have_text("已办结")
    steps = page.eval_on_selector_all("[data-testid=timeline] li", "els => els.map(e => e.dataset.action)")
    for step in ("dispatch", "sign", "submit_feedback", "approve", "close"):
        assert step in steps, steps
    assert steps.index("dispatch") < steps.index("sign") < steps.index("submit_feedback") < steps.index("approve")
    for src in page.eval_on_selector_all("script[src], link[href]", "els => els.map(e => e.src || e.href)"):
        assert src.startswith(live_server.url), src
    ctx.close()


def test_it_answers_404_to_a_handler_of_another_station(signed_in, live_server, appeal, station, center):
    from workorders import services

    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    ctx, page = signed_in("handler2")
    response = page.goto(f"{live_server.url}/workorders/{order.pk}/")
    assert response.status == 404
    page.goto(f"{live_server.url}/workorders/?tab=all")
    assert order.number not in page.content()
    ctx.close()
