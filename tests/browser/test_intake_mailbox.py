"""A citizen writes to the mayor's mailbox on a phone-sized screen and tracks the letter."""

import pytest

from intake.captcha import answer_for_tests
from intake.models import Appeal
from intake.services import close_appeal
from units.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_takes_a_letter_on_a_phone_and_tracks_it(phone_page, live_server, city):
    page = phone_page
    page.goto(f"{live_server.url}/mailbox/mayor/")
    assert "市长信箱" in page.title()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#id_citizen_name", "赵桂兰")
    page.fill("#id_citizen_phone", "13800002580")
    page.fill("#id_title", "学校门口接送时段拥堵")
    page.fill("#id_content", "南门小学门口每天下午四点半接孩子的车辆乱停,孩子过马路很危险,希望安排交警疏导。")
    page.fill("#id_address", "江南区南门街")
    # A wrong answer is refused in Chinese and a fresh challenge is drawn.
    page.fill("#id_captcha", "0")
    page.click("button[type=submit]")
    assert "验证码不正确" in page.locator(".error").first.inner_text()
    token = page.input_value("input[name=captcha_token]")
    page.fill("#id_captcha", str(answer_for_tests(token)))
    page.click("button[type=submit]")
    code = page.locator("[data-testid=tracking-code]").inner_text().strip()
    appeal = Appeal.objects.get(tracking_code=code)
    assert appeal.channel == "mayor_mailbox"

    page.get_by_role("link", name="查询办理进度").click()
    page.fill("#id_code", code)
    page.fill("#id_phone", "13800002580")
    page.click("button[type=submit]")
    assert "已受理" in page.locator("[data-testid=track-status]").inner_text()

    close_appeal(appeal, actor=User.objects.get(username="center"), reply="已安排南门交警中队在放学时段定岗疏导。")
    page.fill("#id_code", code)
    page.fill("#id_phone", "13800002580")
    page.click("button[type=submit]")
    assert page.locator("[data-testid=track-status]").inner_text() == "已办结"
    assert "定岗疏导" in page.locator("[data-testid=track-reply]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for src in page.eval_on_selector_all("script[src], link[href], img[src]", "els => els.map(e => e.src || e.href)"):
        assert src.startswith(live_server.url), src
