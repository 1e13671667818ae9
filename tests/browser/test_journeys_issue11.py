"""A letter's whole life as the citizen sees it, in a real browser: written to the mayor's mailbox
on a phone, handled by the station, closed by the center with a public reply that differs from
the station's internal feedback. The citizen's tracking page and the closure SMS in the simulator
carry the public reply and the tracking code, never the feedback.

(The desk's keyboard session, the bulk sign with one refusal, the caller search and the failed
feedback that keeps its text are in test_desk_keyboard.py and test_workorders_kept_input.py.)
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from intake.captcha import answer_for_tests
from intake.models import Appeal
from sms.models import OutboundSms
from sms.outbox import send_one
from surveys.catalogue import seed_defaults
from workorders import services
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "13800002581"
FEEDBACK = "内部反馈：经查系辖区摊贩王某某（身份证 3201**********1234）占道经营，民警张三已当场教育并登记，拟移交城管。"
PUBLIC = "您反映的南门街占道经营问题已核实处理，相关摊点已清理，感谢您的监督。"


@pytest.fixture
def sms_demo(settings):
    settings.SMS_SIMULATOR_ENABLED = True
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    seed_defaults()


def _write_letter(page, base: str) -> str:
    page.goto(f"{base}/mailbox/mayor/")
    page.fill("#id_citizen_name", "钱多多")
    page.fill("#id_citizen_phone", PHONE)
    page.fill("#id_title", "南门街占道经营")
    page.fill("#id_content", "南门街每天傍晚摊贩占道经营，行人只能走机动车道，很危险。")
    page.fill("#id_address", "江南区南门街")
    page.fill("#id_captcha", str(answer_for_tests(page.input_value("input[name=captcha_token]"))))
    page.click("button[type=submit]")
    return page.locator("[data-testid=tracking-code]").inner_text().strip()


def _track(page, base: str, code: str) -> None:
    page.goto(f"{base}/track/")
    page.fill("#id_code", code)
    page.fill("#id_phone", PHONE)
    page.click("button[type=submit]")


def test_a_closed_letter_tells_the_citizen_the_public_reply_never_the_internal_feedback(
    phone_page, signed_in, live_server, sms_demo, station, center, handler
):
    base = live_server.url
    code = _write_letter(phone_page, base)
    appeal = Appeal.objects.get(tracking_code=code)
    assert appeal.channel == "mayor_mailbox"

    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    services.sign_for(order, actor=handler)
    services.submit_feedback(order, actor=handler, text=FEEDBACK, result="resolved", contact_method="phone")

    # The center closes from the review list: the reply box starts from the feedback, the
    # operator writes the public reply instead and confirms it.
    _ctx, page = signed_in("center")
    page.goto(f"{base}/workorders/review/")
    page.locator(f"[data-order='{order.number}'] [data-testid=approve-close]").click()
    box = page.locator(f"#reply-box-{order.pk}")
    expect(box.locator("textarea[name=reply]")).to_have_value(FEEDBACK)
    box.locator("textarea[name=reply]").fill(PUBLIC)
    box.locator("input[name=confirm]").check()
    box.locator("button[type=submit]").click()
    expect(page.locator(f"[data-order='{order.number}']")).to_have_count(0)
    closed = WorkOrder.objects.select_related("appeal").get(pk=order.pk)
    assert closed.status == "closed" and closed.appeal.public_reply == PUBLIC

    # The citizen's tracking page: the public reply, not a word of the feedback.
    _track(phone_page, base, code)
    assert phone_page.locator("[data-testid=track-status]").inner_text() == "已办结"
    assert phone_page.locator("[data-testid=track-reply]").inner_text().strip() == PUBLIC
    assert "张三" not in phone_page.content() and "内部反馈" not in phone_page.content()

    # The step SMS (receipt, dispatch, closure), sent through the outbox, as the simulator shows
    # them on the citizen's phone: in order, the last one without a word of the feedback.
    steps = ["appeal_received", "appeal_dispatched", "appeal_closed"]
    messages = OutboundSms.objects.filter(phone_hash=appeal.citizen_phone_hash).order_by("pk")
    assert [m.purpose for m in messages] == steps
    for message in messages:
        assert send_one(message.pk)[0] == "sent"
    _admin_ctx, page = signed_in("admin")
    page.goto(f"{base}/sms/simulator/")
    thread = page.locator("[data-testid=sim-thread]").filter(has_text=code)
    expect(thread).to_have_count(1)
    expect(thread.locator("[data-testid=sim-out]")).to_have_count(len(steps))
    text = thread.locator("[data-testid=sim-out]").last.inner_text()
    assert code in text and "张三" not in text and "内部反馈" not in text
    assert station.name in thread.locator("[data-testid=sim-out]").nth(1).inner_text()
