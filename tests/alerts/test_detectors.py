"""The three detectors, deduplication, the moves of an alert and who sees it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from alerts import services
from alerts.choices import AlertState, Detector
from alerts.models import Alert, AlertEvent
from alerts.places import place_key
from intake.choices import Channel, Severity
from intake.models import Appeal, Category
from intake.phones import phone_hash
from units.errors import Refused
from units.models import Notification

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 20, 12, 0, tzinfo=dt.UTC)
NOISE = "滨江路88号酒吧每天深夜噪音很大，影响休息，请派人处理"


@pytest.fixture
def noise_category():
    return Category.objects.create(code="T-NOISE", name="噪音扰民")


def _appeal(*, at, address="临江市滨江区滨江路88号", category=None, phone="", channel=Channel.HOTLINE, unit=None, **kw):
    return Appeal.objects.create(
        channel=channel,
        content=kw.pop("content", NOISE),
        address=address,
        category=category,
        received_at=at,
        citizen_phone_hash=phone_hash(phone) if phone else "",
        proposed_unit=unit,
        **kw,
    )


def _background(category, unit, *, days=28, per_day=1):
    """An ordinary history: ``per_day`` appeals a day at the place over ``days`` days."""
    for d in range(1, days + 1):
        for i in range(per_day):
            _appeal(
                at=NOW - dt.timedelta(days=d, hours=i + 1), category=category, unit=unit, content=f"第{d}天 其他事{i}"
            )


def test_it_keys_places_by_road_or_community():
    assert place_key("临江市滨江区滨江路88号3栋") == "滨江路"
    assert place_key("滨江路88号旁边") == "滨江路"
    assert place_key("江北区江南小区5栋") == "江南小区"
    assert place_key("") == ""


def test_it_computes_the_poisson_threshold():
    assert services.poisson_threshold(1.0, 0.001) == 6  # P(X>=6 | 1) = 0.0006, P(X>=5 | 1) = 0.0037
    assert services.poisson_sf(0, 3.0) == 1.0


def test_it_raises_one_alert_with_its_evidence_for_an_injected_surge(noise_category, station, leader, center):
    _background(noise_category, station)
    surge = [
        _appeal(at=NOW - dt.timedelta(hours=h), category=noise_category, unit=station, channel=ch)
        for h, ch in zip(range(1, 9), [Channel.HOTLINE, Channel.FEED_12345, Channel.MAYOR_MAILBOX] * 3, strict=False)
    ]
    assert services.run_detectors(now=NOW, only=[Detector.SURGE]) == {Detector.SURGE: 1}
    assert services.run_detectors(now=NOW, only=[Detector.SURGE]) == {Detector.SURGE: 0}  # twice: one effect
    alert = Alert.objects.get()
    assert alert.detector == Detector.SURGE and alert.state == AlertState.NEW
    assert set(alert.appeals.values_list("pk", flat=True)) == {a.pk for a in surge}
    assert alert.observed == 8 and alert.threshold <= 8 and alert.expected == pytest.approx(1.0)
    assert alert.unit == station and alert.place == "滨江路"
    assert "基线期望1.00件" in alert.summary
    # the center and the station's leader are told, urgently, once
    told = Notification.objects.filter(dedupe_key=f"alert:{alert.pk}", level=Notification.Level.ALERT)
    assert {n.user_id for n in told} >= {leader.pk, center.pk}


def test_it_updates_the_open_alert_with_later_evidence(noise_category, station):
    _background(noise_category, station)
    for h in range(1, 9):
        _appeal(at=NOW - dt.timedelta(hours=h), category=noise_category, unit=station)
    services.run_detectors(now=NOW, only=[Detector.SURGE])
    later = _appeal(at=NOW + dt.timedelta(minutes=3), category=noise_category, unit=station)
    assert services.run_detectors(now=NOW + dt.timedelta(minutes=5), only=[Detector.SURGE]) == {Detector.SURGE: 0}
    alert = Alert.objects.get()
    assert alert.observed == 9 and alert.appeals.filter(pk=later.pk).exists()
    assert list(alert.events.values_list("action", flat=True)) == ["raised", "evidence"]
    assert Notification.objects.filter(dedupe_key__startswith="alert:").values("dedupe_key").distinct().count() == 1


def test_background_noise_raises_no_alert(noise_category, station):
    """Two a day at the place for four weeks, and today the same: nothing to warn about."""
    _background(noise_category, station, per_day=2)
    for h in (2, 9):
        _appeal(at=NOW - dt.timedelta(hours=h), category=noise_category, unit=station)
    assert services.run_detectors(now=NOW) == {Detector.SURGE: 0, Detector.CALLER: 0, Detector.GROUP: 0}
    assert not Alert.objects.exists()


def test_a_busy_place_needs_more_than_a_quiet_one(noise_category, station):
    """Eight in a day is ordinary where eight a day is the mean."""
    _background(noise_category, station, per_day=8)
    for h in range(1, 9):
        _appeal(at=NOW - dt.timedelta(hours=h), category=noise_category, unit=station)
    assert services.run_detectors(now=NOW, only=[Detector.SURGE]) == {Detector.SURGE: 0}


def test_it_warns_of_one_caller_through_three_channels(station):
    for days, channel in ((6, Channel.HOTLINE), (3, Channel.FEED_12345), (1, Channel.MAYOR_MAILBOX)):
        _appeal(at=NOW - dt.timedelta(days=days), phone="+8613800000001", channel=channel, unit=station, address="")
    _appeal(at=NOW - dt.timedelta(days=2), phone="+8613800000002", channel=Channel.HOTLINE, unit=station, address="")
    assert services.run_detectors(now=NOW, only=[Detector.CALLER]) == {Detector.CALLER: 1}
    alert = Alert.objects.get()
    assert alert.key == phone_hash("+8613800000001") and alert.observed == 3
    assert alert.appeals.count() == 3 and "13800000001" not in alert.title + alert.summary


def test_two_channels_are_not_enough(station):
    for days, channel in ((6, Channel.HOTLINE), (1, Channel.FEED_12345)):
        _appeal(at=NOW - dt.timedelta(days=days), phone="+8613800000001", channel=channel, unit=station, address="")
    assert services.run_detectors(now=NOW, only=[Detector.CALLER]) == {Detector.CALLER: 0}


def test_it_warns_of_a_caller_who_escalates_after_an_unsatisfied_reply(station):
    from surveys.choices import Verdict
    from surveys.models import Rating

    phone = "+8613800000003"
    first = _appeal(at=NOW - dt.timedelta(days=5), phone=phone, unit=station, severity=Severity.BLUE, address="")
    Rating.objects.create(
        appeal=first,
        unit=station,
        verdict=Verdict.DISSATISFIED,
        phone_hash=phone_hash(phone),
        rated_at=NOW - dt.timedelta(days=3),
    )
    # same channel again, but now with a risk word
    later = _appeal(
        at=NOW - dt.timedelta(days=1),
        phone=phone,
        unit=station,
        address="",
        risk_words="上访",
        content="再不处理我就去上访",
    )
    assert services.run_detectors(now=NOW, only=[Detector.CALLER]) == {Detector.CALLER: 1}
    alert = Alert.objects.get()
    assert set(alert.appeals.values_list("pk", flat=True)) == {first.pk, later.pk}
    assert "不满意" in alert.summary


def test_it_warns_of_several_callers_describing_one_event(station):
    text = "江南小区门口道路施工围挡占道，车辆无法通行，多名居民受影响"
    for i in range(5):
        _appeal(
            at=NOW - dt.timedelta(minutes=20 * i + 5),
            address=f"江北区江南小区{i + 1}栋",
            phone=f"+86138000001{i:02d}",
            content=f"{text}{'！' * i}",
            unit=station,
        )
    # the same caller twice, and an unrelated matter at the place, do not make more callers
    _appeal(at=NOW - dt.timedelta(hours=1), address="江南小区", phone="+8613800000100", content=text, unit=station)
    _appeal(
        at=NOW - dt.timedelta(hours=1), address="江南小区", phone="+8613800000199", content="丢失钱包求助", unit=station
    )
    assert services.run_detectors(now=NOW, only=[Detector.GROUP]) == {Detector.GROUP: 1}
    alert = Alert.objects.get()
    assert alert.observed == 5 and alert.appeals.count() == 6 and alert.place == "江南小区"


def test_four_callers_are_not_a_group(station):
    for i in range(4):
        _appeal(at=NOW - dt.timedelta(minutes=10 * i), address="江南小区", phone=f"+86138000002{i:02d}", unit=station)
    assert services.run_detectors(now=NOW, only=[Detector.GROUP]) == {Detector.GROUP: 0}


@pytest.fixture
def surge_alert(noise_category, station):
    for h in range(1, 9):
        _appeal(at=NOW - dt.timedelta(hours=h), category=noise_category, unit=station)
    services.run_detectors(now=NOW, only=[Detector.SURGE])
    return Alert.objects.get()


def test_an_alert_moves_new_seen_handled_with_a_timeline(surge_alert, leader, center):
    services.mark_seen(surge_alert, actor=leader)
    services.mark_seen(surge_alert, actor=leader)  # already there: no second row
    with pytest.raises(ValidationError):
        services.handle_alert(surge_alert, actor=center, note="  ")
    alert = services.handle_alert(surge_alert, actor=center, note="已约谈酒吧经营者，夜间巡查")
    assert alert.state == AlertState.HANDLED and alert.handled_note.startswith("已约谈")
    assert list(AlertEvent.objects.filter(alert=alert).values_list("action", flat=True)) == [
        "raised",
        "seen",
        "handled",
    ]
    with pytest.raises(Refused):  # handled is final: the state refuses
        services.mark_seen(alert, actor=center)


def test_a_handled_alert_is_not_raised_again_by_its_own_evidence(surge_alert, center):
    services.handle_alert(surge_alert, actor=center, note="已处理")
    assert services.run_detectors(now=NOW + dt.timedelta(minutes=5), only=[Detector.SURGE]) == {Detector.SURGE: 0}


def test_a_station_leader_sees_alerts_of_his_unit_only(surge_alert, leader, handler2, other_station, client):
    other = Alert.objects.create(detector=Detector.CALLER, key="x" * 64, title="北湖派出所的预警", unit=other_station)
    assert list(Alert.objects.visible_to(leader)) == [surge_alert]
    client.force_login(leader)
    page = client.get(reverse("alerts:list"))
    assert page.status_code == 200 and surge_alert.title in page.content.decode()
    assert other.title not in page.content.decode()
    assert client.get(reverse("alerts:detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("alerts:move", args=[other.pk, "seen"])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.mark_seen(other, actor=leader)
    client.force_login(handler2)  # a handler holds no reader role
    assert client.get(reverse("alerts:list")).status_code == 403


def test_the_detail_page_shows_evidence_and_takes_moves_by_post(surge_alert, center, client):
    client.force_login(center)
    url = reverse("alerts:detail", args=[surge_alert.pk])
    body = client.get(url).content.decode()
    assert "基线期望" in body and surge_alert.appeals.first().tracking_code in body
    assert client.get(reverse("alerts:move", args=[surge_alert.pk, "seen"])).status_code == 405
    client.post(reverse("alerts:move", args=[surge_alert.pk, "handle"]), {"note": "已处置"})
    surge_alert.refresh_from_db()
    assert surge_alert.state == AlertState.HANDLED


def test_listing_for_supervision_lists_the_open_orders(surge_alert, supervisor, center):
    from workorders.services import dispatch_appeal

    appeal = surge_alert.appeals.first()
    order = dispatch_appeal(appeal, unit=appeal.proposed_unit, actor=center)
    with pytest.raises(PermissionDenied):
        services.list_for_supervision(surge_alert, actor=center)
    assert services.list_for_supervision(surge_alert, actor=supervisor) == 1
    assert services.list_for_supervision(surge_alert, actor=supervisor) == 0
    order.refresh_from_db()
    surge_alert.refresh_from_db()
    assert order.is_listed and surge_alert.is_listed


def test_the_home_page_shows_the_alert_panel(surge_alert, leader, client):
    client.force_login(leader)
    body = client.get(reverse("home")).content.decode()
    assert 'data-panel="alerts"' in body and surge_alert.title[:20] in body
