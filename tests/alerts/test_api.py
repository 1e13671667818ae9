"""The alerts API: the same list, evidence, moves and visibility as the staff pages."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts import services
from alerts.choices import AlertState, Detector
from alerts.models import Alert, AlertEvent
from intake.models import Category

from .test_detectors import NOW, _appeal

pytestmark = pytest.mark.django_db


@pytest.fixture
def surge_alert(station):
    category = Category.objects.create(code="T-NOISE", name="噪音扰民")
    for h in range(1, 9):
        phone = f"+86138000001{h:02d}"
        _appeal(at=NOW - dt.timedelta(hours=h), category=category, unit=station, phone=phone, citizen_phone=phone)
    services.run_detectors(now=NOW, only=[Detector.SURGE])
    return Alert.objects.get()


@pytest.fixture
def others_alert(other_station):
    return Alert.objects.create(
        detector=Detector.CALLER, key="x" * 64, title="北湖派出所的预警", unit=other_station, raised_at=NOW
    )


def test_it_lists_alerts_newest_first_with_filters(surge_alert, others_alert, center, api):
    api.as_user(center)
    rows = api.get("/api/v1/alerts/").json()["results"]
    assert [r["id"] for r in rows] == [others_alert.pk, surge_alert.pk]  # same moment: the later id first
    by_kind = api.get("/api/v1/alerts/", {"detector": "surge"}).json()["results"]
    assert [r["id"] for r in by_kind] == [surge_alert.pk]
    assert by_kind[0]["place"] == "滨江路" and by_kind[0]["observed"] == 8 and by_kind[0]["detector_display"]
    assert api.get("/api/v1/alerts/", {"unit": others_alert.unit_id}).json()["results"][0]["id"] == others_alert.pk
    assert api.get("/api/v1/alerts/", {"state": "handled"}).json()["results"] == []
    assert len(api.get("/api/v1/alerts/", {"state": "open"}).json()["results"]) == 2
    day = NOW.date().isoformat()
    assert len(api.get("/api/v1/alerts/", {"raised_from": day, "raised_to": day}).json()["results"]) == 2
    assert api.get("/api/v1/alerts/", {"raised_from": "2025-03-21"}).json()["results"] == []
    refused = api.get("/api/v1/alerts/", {"state": "maybe"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid" and "state" in refused.json()


def test_the_detail_lists_the_evidence_with_masked_phones_and_the_timeline(surge_alert, center, api):
    body = api.as_user(center).get(f"/api/v1/alerts/{surge_alert.pk}/").json()
    assert len(body["evidence"]) == 8 and body["expected"] is not None and body["threshold"] <= 8
    first = body["evidence"][0]
    assert (
        first["tracking_code"]
        and first["citizen_phone_masked"].startswith("138")
        and "****" in (first["citizen_phone_masked"])
    )
    assert "13800000101" not in str(body)
    assert [e["action"] for e in body["events"]] == ["raised"]


def test_moves_go_through_the_services_with_their_refusals(surge_alert, center, supervisor, api):
    url = f"/api/v1/alerts/{surge_alert.pk}/"
    api.as_user(center)
    assert api.post(url + "seen/").json()["state"] == AlertState.SEEN
    assert api.post(url + "seen/").status_code == 200  # already there: no second row
    blank = api.post(url + "handle/", {"note": "   "}, format="json")
    assert blank.status_code == 400 and "note" in blank.json()
    done = api.post(url + "handle/", {"note": "已约谈经营者"}, format="json")
    assert done.status_code == 200 and done.json()["handled_note"] == "已约谈经营者"
    again = api.post(url + "seen/")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    # 挂牌督办 is for supervisors (and administrators), as on the page
    assert api.post(url + "list-for-supervision/").status_code == 403
    listed = api.as_user(supervisor).post(url + "list-for-supervision/")
    assert listed.status_code == 200 and listed.json()["is_listed"] is True
    assert list(AlertEvent.objects.filter(alert=surge_alert).values_list("action", flat=True)) == [
        "raised",
        "seen",
        "handled",
        "listed",
    ]


def test_a_leader_sees_and_moves_his_units_alerts_only(surge_alert, others_alert, leader, handler, api):
    api.as_user(leader)
    assert [r["id"] for r in api.get("/api/v1/alerts/").json()["results"]] == [surge_alert.pk]
    assert api.get(f"/api/v1/alerts/{others_alert.pk}/").status_code == 404
    assert api.post(f"/api/v1/alerts/{others_alert.pk}/seen/").status_code == 404
    assert api.post(f"/api/v1/alerts/{surge_alert.pk}/handle/", {"note": "已处置"}, format="json").status_code == 200
    api.as_user(handler)  # a handler holds no reader role
    assert api.get("/api/v1/alerts/").status_code == 403
    assert api.get(f"/api/v1/alerts/{surge_alert.pk}/").status_code == 403


def test_anonymous_callers_are_refused(surge_alert, api):
    assert api.get("/api/v1/alerts/").status_code == 401
    assert api.post(f"/api/v1/alerts/{surge_alert.pk}/seen/").status_code == 401


def test_the_list_costs_the_same_queries_for_one_alert_or_many(
    surge_alert, others_alert, center, api, django_assert_max_num_queries
):
    api.as_user(center)
    for i in range(5):
        Alert.objects.create(detector=Detector.GROUP, key=f"地点{i}", title=f"群体{i}", unit=others_alert.unit)
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/alerts/").json()["results"]) == 7


def test_the_staff_list_uses_the_same_filters_and_keeps_them_across_pages(surge_alert, others_alert, center, client):
    from django.urls import reverse

    client.force_login(center)
    url = reverse("alerts:list")
    body = client.get(url, {"detector": "caller"}).content.decode()
    assert others_alert.title in body and surge_alert.title not in body
    assert others_alert.title not in client.get(url, {"raised_from": "2025-03-21"}).content.decode()
    assert client.get(url, {"state": "maybe", "unit": "x", "raised_from": "junk"}).status_code == 200
    for i in range(55):
        Alert.objects.create(detector=Detector.GROUP, key=f"地点{i}", title=f"群体{i}", raised_at=NOW)
    first = client.get(url, {"detector": "group"}).content.decode()
    assert "detector=group&amp;page=2" in first
    second = client.get(url, {"detector": "group", "page": 2}).content.decode()
    assert surge_alert.title not in second and "群体" in second
