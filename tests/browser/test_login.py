"""The staff shell in a real browser: log in as center staff and see the Chinese home page."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_logs_in_as_center_and_shows_the_chinese_home_page(page, login, live_server):
    login(page, "center")
    assert page.locator("h1.page-title").inner_text() == "中心坐席工作台"
    assert "民意感知中心" in page.title()
    assert page.locator("[data-testid=current-user]").inner_text().startswith("民坐席")
    # Every script and stylesheet comes from the product itself.
    for src in page.eval_on_selector_all("script[src], link[href]", "els => els.map(e => e.src || e.href)"):
        assert src.startswith(live_server.url), src
    # htmx loaded from the product's own static files.
    assert page.evaluate("typeof window.htmx") == "object"


def test_it_refuses_a_wrong_password_in_chinese(page, live_server, city):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "center")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator("[role=alert]").inner_text()
