"""No typed input is lost: a feedback refused because the order moved on meanwhile comes back in place
with the refusal beside it and every word the handler typed; the reply box of 通过并办结 shows the
public reply to confirm."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from workorders import services
from workorders.models import WorkOrder

from .appeals import waiting_appeal

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "已到现场核实：夜市摊主共 6 户，已责令 22 点后停止营业并加装油烟净化器，诉求人表示认可。"


@pytest.fixture
def order(city, station, center, handler):
    appeal = waiting_appeal("+8613800000302")
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    services.sign_for(order, actor=handler)
    return order


def test_a_failed_feedback_keeps_its_text(signed_in, live_server, order, handler, center):
    ctx, page = signed_in("handler")
    page.goto(f"{live_server.url}/workorders/{order.pk}/")
    form = page.locator("form[data-move=submit-feedback]")
    form.locator("textarea[name=text]").fill(TEXT)
    form.locator("select[name=result]").select_option("partly")
    # Meanwhile a colleague hands the order back to the center (another tab, another person).
    services.hand_back(WorkOrder.objects.get(pk=order.pk), actor=handler, reason="非本所辖区")
    form.locator("button[type=submit]").click()
    error = page.locator("form[data-move=submit-feedback] [data-testid=move-error]")
    expect(error).to_be_visible()
    expect(page.locator("form[data-move=submit-feedback] textarea[name=text]")).to_have_value(TEXT)
    expect(page.locator("form[data-move=submit-feedback] select[name=result]")).to_have_value("partly")
    assert WorkOrder.objects.get(pk=order.pk).status == "handed_back"
    ctx.close()


def test_approve_and_close_opens_the_reply_box_and_publishes_the_confirmed_reply(
    signed_in, live_server, order, handler, center
):
    services.submit_feedback(order, actor=handler, text=TEXT, result="resolved", contact_method="phone")
    ctx, page = signed_in("center")
    page.goto(f"{live_server.url}/workorders/review/")
    page.locator(f"[data-order='{order.number}'] [data-testid=approve-close]").click()
    box = page.locator(f"#reply-box-{order.pk} [data-testid=reply-box]")
    expect(box.locator("textarea[name=reply]")).to_have_value(TEXT)  # a prefill to check, not sent yet
    assert WorkOrder.objects.get(pk=order.pk).status == "feedback_submitted"
    box.locator("textarea[name=reply]").fill("您反映的夜市油烟问题已整改，感谢监督。")
    # Not confirmed: the browser holds the submit (the box says so before the server would).
    box.locator("button[type=submit]").click()
    assert WorkOrder.objects.get(pk=order.pk).status == "feedback_submitted"
    expect(box.locator("textarea[name=reply]")).to_have_value("您反映的夜市油烟问题已整改，感谢监督。")
    page.locator(f"#reply-box-{order.pk} input[name=confirm]").check()
    page.locator(f"#reply-box-{order.pk} button[type=submit]").click()
    # Done: the review list reloads (filters kept) without the order.
    expect(page.locator(f"[data-order='{order.number}']")).to_have_count(0)
    assert page.url == f"{live_server.url}/workorders/review/"
    done = WorkOrder.objects.select_related("appeal").get(pk=order.pk)
    assert done.status == "closed" and done.appeal.public_reply == "您反映的夜市油烟问题已整改，感谢监督。"
    ctx.close()
