"""Benchmark: a day's work at the desk and in the workspace, with the keyboard, in a real browser.

Center staff triage and dispatch ``--appeals`` appeals (at most 50, one workspace page) from the
desk (filters set once, then j, Enter and one Ctrl+Shift+Enter per appeal: 研判并下一条 with the
proposed unit accepted), and the station handler signs the orders this made from the workspace
(j and x per row, one click on 签收所选). Headless Chromium (Debian's) drives gunicorn (2 sync workers, DEBUG off, as in
production) on 127.0.0.1. Every request the page makes is counted with Playwright's request
events (documents, htmx calls, static files); keys and clicks are counted as pressed. It prints
requests, keys + clicks and seconds per appeal and per order.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_h7 REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/desk_journey.py --prepare

The database is the benchmark's own: ``--prepare`` migrates it and loads the demo city
(``load_demo``). Each run adds ``--appeals`` new hotline appeals on 滨江路 (the demo routes that
street to 滨江派出所, so the proposal is that station), tagged with the run's word so that the desk
and workspace searches select exactly them. Static files are collected into ``STATIC_ROOT`` first.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
# Chinese letters for the run's tag (the search treats digits as phone numbers), drawn so that two
# runs' tags share no trigram: the text search matches by similarity.
TAG_LETTERS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土日月星"


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, check=True)


def prepare_rows(*, tag: str, appeals: int) -> None:
    """The run's appeals: new, on 滨江路, each from its own caller."""
    import django

    django.setup()
    from intake import services as intake_services
    from units.models import Unit, User
    from workorders.models import JurisdictionRule

    station = Unit.objects.get(code="LJ101")
    JurisdictionRule.objects.get_or_create(pattern="滨江路", defaults={"kind": "street", "unit": station})
    center = User.objects.get(username="center")
    base = secrets.randbelow(9000)

    for i in range(appeals):
        intake_services.create_appeal(
            channel="hotline",
            content=f"滨江路夜市烧烤噪音扰民，第{i + 1}次反映，请派出所处理。{tag}",
            address="临江市江北区滨江路18号",
            citizen_name="基准来电人",
            citizen_phone=f"1380000{(base + i) % 10000:04d}",
            actor=center,
        )


class RequestLog:
    """Requests seen by a page, split by kind."""

    def __init__(self, page):
        self.requests: list[tuple[str, str, str]] = []
        self.cached = 0
        self.not_modified = 0
        page.on("request", lambda r: self.requests.append((r.method, r.resource_type, r.url)))
        page.on("response", lambda r: self._answered(r.status))
        # Requests the browser answered from its own cache never reach the server: counted apart.
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestServedFromCache", lambda _event: self._hit())

    def _hit(self) -> None:
        self.cached += 1

    def _answered(self, status: int) -> None:
        if status == 304:
            self.not_modified += 1

    def reset(self) -> None:
        self.requests.clear()

    def summary(self) -> dict:
        repeated = Counter(u.split("?")[0] for _m, _t, u in self.requests if "/static/" in u).most_common(3)
        return {
            "repeated_static": [(url.split("/static/")[1], n) for url, n in repeated if n > 1],
            "all": len(self.requests),
            "cached": self.cached,
            "not_modified": self.not_modified,
            "posts": sum(1 for m, _t, _u in self.requests if m == "POST"),
            "documents": sum(1 for _m, t, _u in self.requests if t == "document"),
            "static": sum(1 for _m, _t, u in self.requests if "/static/" in u),
        }


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo12345")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def signed_in_page(browser, base: str, username: str):
    """A staff-sized browser page signed in as ``username``, counting its requests: the context,
    the page and its ``RequestLog``."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, base, username)
    return context, page, RequestLog(page)


def desk_session(browser, base: str, *, tag: str, appeals: int) -> dict:
    context, page, counter = signed_in_page(browser, base, "center")
    keys = clicks = 0
    started = time.monotonic()
    page.goto(f"{base}/appeals/?status=new&q={quote(tag)}")  # a saved link: the filtered queue
    rows = page.locator("[data-testid=appeal-row]").count()
    if rows != appeals:
        raise SystemExit(f"the desk shows {rows} appeals of this run, expected {appeals}")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    keys += 2
    page.wait_for_selector("[data-testid=desk-panel-appeal]")
    for _ in range(appeals):
        current = page.locator("[data-testid=desk-panel-appeal]").get_attribute("data-appeal")
        page.keyboard.press("Control+Shift+Enter")  # 研判并下一条
        keys += 1
        page.wait_for_function(
            "pk => !document.querySelector(`[data-testid=desk-panel-appeal][data-appeal='${pk}']`)", arg=current
        )
    page.wait_for_selector("[data-testid=panel-done]")
    seconds = time.monotonic() - started
    still_filtered = "status=new" in page.url and quote(tag) in page.url
    context.close()
    return {
        "n": appeals,
        "seconds": seconds,
        "keys": keys,
        "clicks": clicks,
        "filters_kept": still_filtered,
        **counter.summary(),
    }


def sign_session(browser, base: str, *, tag: str, orders: int) -> dict:
    context, page, counter = signed_in_page(browser, base, "handler")
    keys = clicks = 0
    started = time.monotonic()
    page.goto(f"{base}/workorders/?tab=to_sign&q={quote(tag)}")
    rows = page.locator("[data-testid=order-table] [data-row]").count()
    if rows != orders:
        raise SystemExit(f"the workspace shows {rows} orders of this run, expected {orders}")
    for _ in range(orders):
        page.keyboard.press("j")
        page.keyboard.press("x")
        keys += 2
    selected = page.locator("[data-selected-count]").inner_text().strip()
    if selected != str(orders):
        raise SystemExit(f"{selected} rows selected, expected {orders}")
    page.click("[data-testid=bulk-sign]")
    clicks += 1
    page.wait_for_selector("[data-testid=bulk-results]")
    ok = page.locator("[data-testid=bulk-result][data-ok='1']").count()
    seconds = time.monotonic() - started
    context.close()
    return {"n": orders, "seconds": seconds, "keys": keys, "clicks": clicks, "signed": ok, **counter.summary()}


def report(title: str, unit: str, r: dict) -> None:
    n = r["n"]
    print(f"{title}: {n} {unit}s in {r['seconds']:.1f} s")
    print(
        f"  requests {r['all']} in all ({r['documents']} page loads, {r['posts']} POSTs, {r['static']} static files)"
        f" = {r['all'] / n:.2f} per {unit}, {r['posts'] / n:.2f} POSTs per {unit}"
    )
    served = r["all"] - r["cached"]
    print(
        f"  reaching the server {served} ({r['cached']} answered from the browser's cache,"
        f" {r['not_modified']} revalidated with 304) = {served / n:.2f} per {unit}"
    )
    print(f"  keys + clicks {r['keys'] + r['clicks']} = {(r['keys'] + r['clicks']) / n:.2f} per {unit}")
    print(f"  seconds per {unit} {r['seconds'] / n:.2f}")
    if r["repeated_static"]:
        print("  static files fetched more than once: " + ", ".join(f"{u} ×{k}" for u, k in r["repeated_static"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appeals", type=int, default=50, help="at most 50: one workspace page")
    parser.add_argument("--port", type=int, default=8717)
    parser.add_argument("--prepare", action="store_true", help="migrate and load the demo city first")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to the benchmark's own PostgreSQL database")
    if args.prepare:
        manage("migrate", "-v0")
        manage("load_demo")
    manage("collectstatic", "--noinput", "-v0")
    tag = "".join(secrets.choice(TAG_LETTERS) for _ in range(6))
    appeals = min(args.appeals, 50)
    prepare_rows(tag=tag, appeals=appeals)

    from playwright.sync_api import sync_playwright

    from bench.httpbench import serve

    with serve(os.environ["DATABASE_URL"], port=args.port) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        print(f"run {tag}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, gunicorn 2 workers, headless Chromium")
        desk = desk_session(browser, base, tag=tag, appeals=appeals)
        report("desk: triage and dispatch (研判并下一条)", "appeal", desk)
        print(f"  filters kept in the URL to the end: {'yes' if desk['filters_kept'] else 'NO'}")
        signing = sign_session(browser, base, tag=tag, orders=appeals)
        report("workspace: bulk sign (签收所选)", "order", signing)
        print(f"  signed {signing['signed']} of {signing['n']}")
        browser.close()


if __name__ == "__main__":
    main()
