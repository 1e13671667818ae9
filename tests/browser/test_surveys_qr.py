"""A citizen scans a window's QR code on a phone, rates it 不满意 with a tag and a comment, and
sees the thank-you page; the station's leader is warned and a rectification order exists."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from surveys import qr
from surveys.models import Rating
from surveys.services.qr_ratings import save_rating_point
from units.models import Notification, User

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_rates_a_window_dissatisfied_from_a_phone(phone_page, live_server, station, leader):
    from workorders.models import WorkOrder

    cache.clear()
    center = User.objects.get(username="center")
    point = save_rating_point(None, actor=center, unit=station, kind="window", name="户籍窗口")
    page = phone_page
    page.goto(f"{live_server.url}{qr.rating_path(point)}")
    assert "户籍窗口" in page.locator("[data-testid=qr-point]").inner_text()
    page.locator("label.qr-verdict", has_text="不满意").click()
    page.locator("label.qr-tag", has_text="态度差").click()
    page.fill("textarea[name=text]", "窗口民警一直看手机")
    page.locator("[data-testid=qr-submit]").click()
    page.wait_for_url("**/thanks/")
    thanks = page.locator("[data-testid=qr-thanks]").inner_text()
    assert "感谢您的评价" in thanks and "负责人" in thanks

    rating = Rating.objects.get()
    assert (rating.verdict, rating.tags, rating.text) == ("dissatisfied", ["attitude_bad"], "窗口民警一直看手机")
    assert WorkOrder.objects.filter(pk=rating.rectification_order_id, unit=station).exists()
    assert Notification.objects.filter(user=leader, dedupe_key=f"surveys:qr-bad-review:{rating.pk}").exists()

    page.goto(f"{live_server.url}/qr/{point.pk}.1:forged/")
    assert "二维码无效" in page.locator("[data-testid=qr-invalid]").inner_text()
