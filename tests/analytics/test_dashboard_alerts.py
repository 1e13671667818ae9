"""The dashboard's alert and hand-back panels and the bulletins' alert section (contributed by the
alerts and routing apps through their nav.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.choices import Detector
from alerts.models import Alert, AlertEvidence
from analytics import services
from analytics.choices import BulletinKind
from intake.models import Appeal
from intake.phones import phone_hash
from routing.models import HandbackMonth

pytestmark = pytest.mark.django_db


def _yesterday_at(hour: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def alerts(station, other_station):
    mine = Alert.objects.create(
        detector=Detector.SURGE,
        key="滨江路|-",
        title="滨江路「噪音扰民」诉求上升：24小时8件",
        place="滨江路",
        unit=station,
        observed=8,
        expected=0.25,
        threshold=5,
        raised_at=_yesterday_at(15),
    )
    phone = "+8613800009001"
    appeal = Appeal.objects.create(
        channel="hotline", content="第三次反映", citizen_phone=phone, citizen_phone_hash=phone_hash(phone)
    )
    caller = Alert.objects.create(
        detector=Detector.CALLER,
        key=phone_hash(phone),
        title="同一来电人反复来诉：7天内经3个渠道来诉",
        unit=other_station,
        observed=3,
        threshold=3,
        raised_at=_yesterday_at(18),
    )
    AlertEvidence.objects.create(alert=caller, appeal=appeal)
    old = Alert.objects.create(
        detector=Detector.GROUP,
        key="江南小区",
        title="上个月的群体性诉求",
        raised_at=_yesterday_at(9) - dt.timedelta(days=40),
    )
    return mine, caller, old


def test_the_daily_bulletin_keeps_the_days_alerts_with_place_or_masked_caller(alerts, center, client):
    mine, caller, old = alerts
    bulletin, _created = services.generate_bulletin(
        kind=BulletinKind.DAILY, on=timezone.localdate() - dt.timedelta(days=1)
    )
    section = next(s for s in bulletin.content["sections"] if s["template"] == "alerts/_bulletin.html")["data"]
    assert section["total"] == 2 and section["open"] == 2
    assert {r["id"] for r in section["rows"]} == {mine.pk, caller.pk}  # not last month's
    row = next(r for r in section["rows"] if r["id"] == caller.pk)
    assert row["where"] == "138****9001" and row["state_display"] == "新预警"
    surge = next(r for r in section["rows"] if r["id"] == mine.pk)
    assert (surge["where"], surge["observed"], surge["expected"], surge["threshold"]) == ("滨江路", 8, 0.25, 5)
    # kept as generated: handling the alert later does not change the bulletin
    Alert.objects.filter(pk=mine.pk).update(state="handled")
    bulletin.refresh_from_db()
    assert next(r for r in bulletin.content["sections"][0]["data"]["rows"] if r["id"] == mine.pk)["state"] == "new"
    client.force_login(center)
    body = client.get(reverse("analytics:bulletin", args=[bulletin.pk])).content.decode()
    assert 'data-testid="bulletin-alerts"' in body and "138****9001" in body and "+8613800009001" not in body
    printed = client.get(reverse("analytics:bulletin_print", args=[bulletin.pk])).content.decode()
    assert "滨江路「噪音扰民」诉求上升" in printed


def test_a_bulletin_kept_before_sections_existed_still_renders(center, client):
    from analytics.models import Bulletin

    bulletin, _created = services.generate_bulletin(
        kind=BulletinKind.DAILY, on=timezone.localdate() - dt.timedelta(days=3)
    )
    content = dict(bulletin.content)
    content.pop("sections")
    Bulletin.objects.filter(pk=bulletin.pk).update(content=content)
    client.force_login(center)
    page = client.get(reverse("analytics:bulletin", args=[bulletin.pk]))
    assert page.status_code == 200 and 'data-testid="bulletin-alerts"' not in page.content.decode()


def test_the_dashboard_shows_the_periods_alerts_to_each_reader_within_his_units(alerts, center, leader, client):
    mine, caller, _old = alerts
    client.force_login(center)
    body = client.get(
        reverse("analytics:dashboard"),
        {"period": "custom", "start": mine.raised_at.date() - dt.timedelta(days=2), "end": timezone.localdate()},
    ).content.decode()
    assert 'data-testid="dashboard-alerts"' in body and mine.title in body and caller.title in body
    client.force_login(leader)
    body = client.get(
        reverse("analytics:dashboard"),
        {"period": "custom", "start": mine.raised_at.date() - dt.timedelta(days=2), "end": timezone.localdate()},
    ).content.decode()
    assert mine.title in body and caller.title not in body
    assert 'data-testid="dashboard-handback"' not in body  # the city-wide rate is for city-wide roles


def test_the_dashboard_shows_the_hand_back_rate_before_and_after_the_model(center, client):
    from routing.models import TrainedModel

    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    HandbackMonth.objects.create(month=last_month, dispatched=200, handed_back=30)
    HandbackMonth.objects.create(month=this_month, dispatched=100, handed_back=5)
    TrainedModel.objects.create(version=1, status="active", activated_at=timezone.now())
    client.force_login(center)
    body = client.get(reverse("analytics:dashboard")).content.decode()
    assert 'data-testid="dashboard-handback"' in body
    assert 'data-testid="handback-before">15.0%<' in body and 'data-testid="handback-after">5.0%<' in body
