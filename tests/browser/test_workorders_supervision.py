"""Listed supervision in a real browser: a supervisor lists an order; it stands out in the unit's queue."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from intake.models import Appeal
from workorders import services

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_lists_an_order_and_the_unit_sees_it_marked(signed_in, live_server, station, center):
    appeal = Appeal.objects.create(
        channel="hotline", content="多次反映楼道堆放杂物存在消防隐患，无人处理。", severity="blue"
    )
    order = services.dispatch_appeal(appeal, unit=station, actor=center)

    ctx, page = signed_in("supervisor")
    page.goto(f"{live_server.url}/workorders/{order.pk}/")
    page.locator("form[data-move=list]").locator("xpath=..").locator("summary").click()
    page.locator("form[data-move=list] textarea[name=reason]").fill("群众反复投诉，督察支队挂牌督办")
    page.locator("form[data-move=list] button").click()
    # The move posts through htmx and the page reloads afterwards (HX-Redirect): wait for the badge.
    expect(page.locator("[data-testid=listed-badge]")).to_be_visible()
    page.goto(f"{live_server.url}/workorders/listed/")
    assert page.locator(f"[data-testid=listed-table] tr[data-order='{order.number}']").is_visible()
    ctx.close()

    ctx, page = signed_in("handler")
    page.goto(f"{live_server.url}/workorders/")
    row = page.locator(f"[data-testid=order-table] tr[data-order='{order.number}']")
    assert "listed" in row.get_attribute("class")
    ctx.close()

    ctx, page = signed_in("leader")
    page.goto(f"{live_server.url}/units/notifications/")
    assert "挂牌督办" in page.content()
    ctx.close()
