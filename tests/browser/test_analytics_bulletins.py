"""A unit leader reads yesterday's bulletin: the summary, the charts drawn, the Excel download."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from analytics import services
from intake.models import Appeal
from intake.phones import phone_hash

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bulletin(city, station, settings):
    settings.ANALYTICS_PDF_BROWSER = ""  # this journey is about the page and the Excel file
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    noon = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(12)))
    for i in range(3):
        phone = f"+86138000070{i:02d}"
        Appeal.objects.create(
            channel="hotline",
            unit=station,
            content="滨江路88号酒吧夜间噪音扰民，吵得睡不着",
            address="滨江路88号",
            citizen_phone=phone,
            citizen_phone_hash=phone_hash(phone),
            received_at=noon + dt.timedelta(minutes=i),
        )
    return services.generate_bulletin(kind="daily", on=yesterday)[0]


def test_it_shows_the_bulletin_with_charts_and_downloads_excel(page, login, bulletin):
    login(page, "leader")
    page.click("nav.sidebar >> text=通报")
    page.click(f"text={bulletin.title}")
    assert "全市共受理群众诉求3件" in page.locator("[data-testid=bulletin-summary]").inner_text()
    for chart in ("chart-daily", "chart-severity", "chart-satisfaction", "chart-units"):
        page.wait_for_selector(f"#{chart}[data-rendered='1'] canvas")
    assert page.locator("[data-testid=hotspot]").count() == 1
    with page.expect_download() as download:
        page.click("[data-testid=excel]")
    assert download.value.suggested_filename.endswith(".xlsx")
