"""Center staff type a hotline call in, see the caller's history as they type, and find the call in the queue."""

import pytest

from intake import demo as intake_demo
from intake import services
from intake.models import Appeal

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_enters_a_hotline_call_and_finds_it_in_the_queue(page, login, live_server):
    intake_demo.load_categories()
    intake_demo.load_risk_words()
    earlier, _ = services.create_appeal(
        channel="12345", external_id="B-1", content="北湖路夜市烧烤噪音扰民", citizen_phone="13800003690"
    )
    login(page, "center")
    page.click("nav.sidebar >> text=热线登记")
    page.wait_for_url(f"{live_server.url}/appeals/hotline/")
    # Keyboard only: the phone field has the focus.
    page.keyboard.type("13800003690")
    history = page.locator("[data-testid=caller-history]")
    history.locator(f"text={earlier.tracking_code}").wait_for()
    assert "13800003690" not in history.inner_text()
    page.fill("#id_citizen_name", "陈春梅")
    page.select_option("#id_category", label="治安管理 / 噪音扰民")
    page.fill("#id_address", "江北区北湖路88号")
    page.fill("#id_content", "北湖路夜市烧烤还是每天闹到凌晨两点,油烟很大,再不管我就不想活了")
    # The severity the system will propose shows up while typing.
    page.locator("[data-testid=severity-preview]", has_text="红色").wait_for()
    page.keyboard.press("Control+Enter")
    page.locator(".msg-success").wait_for()
    assert "已登记诉求" in page.locator(".messages").inner_text()
    assert "风险预警" in page.locator(".messages").inner_text()
    appeal = Appeal.objects.get(citizen_name="陈春梅")
    assert appeal.severity == "red" and appeal.is_repeat and appeal.repeat_of == earlier

    # The queue: most severe first, so the new red call leads; search also finds it.
    page.click("nav.sidebar >> text=分诊台")
    first_row = page.locator("[data-testid=appeal-row]").first
    assert first_row.get_attribute("data-code") == appeal.tracking_code
    page.fill("input[name=q]", "北湖路夜市")
    page.click("[data-testid=desk-filters] button[type=submit]")
    page.wait_for_url("**/appeals/?*q=*")
    rows = page.locator("[data-testid=appeal-row]")
    assert rows.count() == 2
    # A tracking code on the desk opens the side panel (docs/intake.md); its code leads to the appeal page.
    page.click(f"[data-testid=appeal-row][data-code='{appeal.tracking_code}'] [data-open]")
    page.locator(f"[data-testid=desk-panel-appeal][data-appeal='{appeal.pk}']").wait_for()
    page.click("[data-testid=panel-full-page]")
    page.locator("[data-testid=risk-alert]").wait_for()
    assert "重复诉求" in page.locator("[data-testid=repeat-flag]").inner_text()
    assert page.locator("[data-testid=phone]").inner_text().startswith("138****3690")
    page.fill("[data-testid=reveal-reason]", "联系群众核实诉求情况")
    page.click("[data-testid=reveal-phone]")
    page.locator("[data-testid=revealed-phone]").wait_for()
    assert page.locator("[data-testid=revealed-phone]").inner_text() == "13800003690"
    assert appeal.phone_reveals.count() == 1
    for src in page.eval_on_selector_all("script[src], link[href], img[src]", "els => els.map(e => e.src || e.href)"):
        assert src.startswith(live_server.url), src
