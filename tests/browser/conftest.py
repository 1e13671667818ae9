"""Browser journeys in real headless Chromium (Debian's package) driven by Playwright.

``page`` is a fresh browser page; ``login(page, username)`` signs a demo user in through the
login form of the live server. Tests using these must be ``transaction=True`` (the live server
runs in another thread) and are marked ``browser``.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _staff_context(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def browser_context(browser):
    context = _staff_context(browser)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


@pytest.fixture
def phone_page(browser):
    """A phone-sized page, for the public mobile-first forms."""
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _sign_in(page, live_server, username: str):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.fixture
def login(live_server, city):
    """Sign a demo user in through the real login form (password demo12345)."""
    return lambda page, username: _sign_in(page, live_server, username)


@pytest.fixture
def signed_in(browser, live_server, city):
    """A separate browser session per user, for journeys that pass between people:
    ``context, page = signed_in("center")``; every session is closed at the end of the test."""
    contexts = []

    def open_as(username: str):
        context = _staff_context(browser)
        contexts.append(context)
        return context, _sign_in(context.new_page(), live_server, username)

    yield open_as
    for context in contexts:
        context.close()
