"""A supervisor opens the dashboard and sees the charts drawn (ECharts canvases, served locally),
drills down to a bureau, then publishes last month's red/black list of stations."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from analytics import services
from analytics.periods import previous_month
from analytics.tasks import refresh_aggregates_task
from intake.models import Appeal
from intake.phones import phone_hash
from surveys.models import Rating
from units.models import Unit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def figures(city, settings):
    settings.ANALYTICS_RANKING_MIN_SAMPLE = 2
    now = timezone.now()
    last_month = timezone.make_aware(
        dt.datetime.combine(previous_month(timezone.localdate()).first + dt.timedelta(days=9), dt.time(10))
    )
    verdicts = {
        "LJ101": ["satisfied"] * 3,
        "LJ102": ["satisfied", "dissatisfied", "dissatisfied"],
        "LJ201": ["satisfied", "basic"],
    }
    for code, vs in verdicts.items():
        unit = Unit.objects.get(code=code)
        for i, verdict in enumerate(vs):
            Rating.objects.create(unit=unit, verdict=verdict, rated_at=last_month)
            Rating.objects.create(unit=unit, verdict=verdict, rated_at=now - dt.timedelta(minutes=5))
            phone = f"+8613800{len(code) * 1000 + int(code[2:]) * 10 + i:06d}"
            Appeal.objects.create(
                channel="hotline" if i % 2 else "12345",
                unit=unit,
                severity=["red", "yellow", "blue"][i % 3],
                content="北湖路口红绿灯坏了",
                citizen_phone=phone,
                citizen_phone_hash=phone_hash(phone),
                received_at=now - dt.timedelta(minutes=10),
            )
    # The dashboard reads the daily aggregates: the figures above reach them when beat runs the
    # minute job (the rows' signals marked their buckets), as they would for a real user.
    refresh_aggregates_task()
    services.compute_ranking(month=previous_month(timezone.localdate()).first, tier="station")


def test_it_draws_the_dashboard_and_publishes_the_red_black_list(page, login, live_server, figures):
    hosts = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).netloc))
    login(page, "supervisor")
    page.click("nav.sidebar >> text=统计分析")
    page.wait_for_url("**/analytics/")
    for chart in ("chart-daily", "chart-severity", "chart-satisfaction", "chart-units"):
        page.wait_for_selector(f"#{chart}[data-rendered='1'] canvas")
    assert page.locator("[data-testid=kpis] [data-metric=satisfaction] .n").inner_text() != "—"
    page.click("[data-testid=drill-LJ100]")
    page.wait_for_selector("tr[data-unit=LJ101]")
    assert page.locator("tr[data-unit=LJ200]").count() == 0
    page.wait_for_selector("#chart-units[data-rendered='1'] canvas")

    page.click("nav.sidebar >> text=红黑榜")
    page.wait_for_selector("[data-testid=ranking-panel-station]")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=publish-station]")
    panel = page.locator("[data-testid=ranking-panel-station]")
    panel.locator("text=已发布").wait_for()
    assert "滨江派出所" in panel.locator("[data-testid=red-list]").inner_text()
    assert "北湖派出所" in panel.locator("[data-testid=black-list]").inner_text()
    assert page.locator("[data-testid=publish-station]").count() == 0
    assert hosts == {urlparse(live_server.url).netloc}
