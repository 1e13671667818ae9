"""API: /api/v1/metrics/, /api/v1/rankings/ (publish, compute, recompute), /api/v1/bulletins/."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from analytics import services
from analytics.models import Ranking

from .conftest import at

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/metrics/", "/api/v1/rankings/", "/api/v1/bulletins/"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_it_refuses_anonymous_and_handlers(api, handler, url):
    assert api.get(url).status_code in (401, 403)
    assert api.as_user(handler).get(url).status_code == 403


def test_it_answers_metrics_for_the_city_and_a_drill_down(api, supervisor, make, station, district):
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-10-10"))
    make.rating(unit=station, verdict="basic", rated_at=at("2026-10-10"))
    params = {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"}
    body = api.as_user(supervisor).get("/api/v1/metrics/", params).json()
    assert body["unit"] is None and body["period"] == {"first": "2026-10-01", "until": "2026-11-01"}
    assert body["totals"]["satisfaction"] == {"num": 2.0, "den": 2, "rate": 1.0}
    north = next(u for u in body["units"] if u["code"] == "LJ100")
    assert north["ratings"] == 2
    down = api.get("/api/v1/metrics/", {**params, "unit": district.pk}).json()
    assert {u["code"] for u in down["units"]} == {"LJ101", "LJ102", "LJ103"}


def test_it_keeps_a_leader_to_his_subtree(api, leader, other_station, make, station):
    make.rating(unit=other_station, verdict="dissatisfied", rated_at=at("2026-10-10"))
    params = {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"}
    body = api.as_user(leader).get("/api/v1/metrics/", params).json()
    assert body["unit"] == station.pk and body["totals"]["ratings"] == 0
    assert api.get("/api/v1/metrics/", {**params, "unit": other_station.pk}).status_code == 404


def test_it_rejects_a_bad_period_with_400(api, supervisor):
    r = api.as_user(supervisor).get("/api/v1/metrics/", {"period": "custom", "start": "2026-10-05"})
    assert r.status_code == 400 and "自定义周期" in str(r.json())


def test_it_publishes_and_freezes_through_the_api(api, supervisor, center, leader):
    with time_machine.travel(at("2026-11-15"), tick=False):
        c = api.as_user(center)
        r = c.post("/api/v1/rankings/compute/", {"month": "2026-10-01", "tier": "station"}, format="json")
        assert r.status_code == 200 and r.json()["status"] == "draft" and len(r.json()["entries"]) == 12
        pk = r.json()["id"]
        assert c.post(f"/api/v1/rankings/{pk}/publish/").status_code == 403
        assert api.as_user(leader).get(f"/api/v1/rankings/{pk}/").status_code == 404  # drafts unseen
        s = api.as_user(supervisor)
        first = s.post(f"/api/v1/rankings/{pk}/publish/")
        second = s.post(f"/api/v1/rankings/{pk}/publish/")
        assert first.status_code == second.status_code == 200
        assert first.json()["published_at"] == second.json()["published_at"]
        conflict = s.post(f"/api/v1/rankings/{pk}/recompute/")
        assert conflict.status_code == 409 and "冻结" in conflict.json()["detail"]
        again = s.post("/api/v1/rankings/compute/", {"month": "2026-10-20", "tier": "station"}, format="json")
        assert again.status_code == 409
        listed = api.as_user(leader).get("/api/v1/rankings/", {"month": "2026-10-01"}).json()
        assert [x["id"] for x in listed["results"]] == [pk]
    assert Ranking.objects.get().status == "published"


def test_it_refuses_publishing_the_current_month_with_409(api, supervisor):
    with time_machine.travel(at("2026-11-15"), tick=False):
        ranking = services.compute_ranking(month=dt.date(2026, 11, 1), tier="district", actor=supervisor)
        r = api.as_user(supervisor).post(f"/api/v1/rankings/{ranking.pk}/publish/")
    assert r.status_code == 409 and "尚未结束" in r.json()["detail"]


def test_it_generates_and_lists_bulletins(api, center, leader):
    with time_machine.travel(at("2026-11-15"), tick=False):
        c = api.as_user(center)
        first = c.post("/api/v1/bulletins/generate/", {"kind": "daily", "on": "2026-11-14"}, format="json")
        second = c.post("/api/v1/bulletins/generate/", {"kind": "daily", "on": "2026-11-14"}, format="json")
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"]
        assert (
            c.post("/api/v1/bulletins/generate/", {"kind": "daily", "on": "2026-11-15"}, format="json").status_code
            == 400
        )
        assert (
            api.as_user(leader)
            .post("/api/v1/bulletins/generate/", {"kind": "daily", "on": "2026-11-13"}, format="json")
            .status_code
            == 403
        )
        listed = api.as_user(leader).get("/api/v1/bulletins/").json()
        assert [b["title"] for b in listed["results"]] == ["2026年11月14日民意日归纳"]
        assert "content" not in listed["results"][0]
        detail = api.get(f"/api/v1/bulletins/{first.json()['id']}/").json()
        assert detail["content"]["period"]["first"] == "2026-11-14"


def test_it_documents_the_endpoints_in_the_schema(api, supervisor):
    schema = api.as_user(supervisor).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/metrics/" in paths
    publish = paths["/api/v1/rankings/{id}/publish/"]["post"]["responses"]
    assert {"200", "403", "404", "409"} <= set(publish)
    assert "409" in paths["/api/v1/rankings/{id}/recompute/"]["post"]["responses"]


@pytest.mark.parametrize("url", ["/api/v1/rankings/", "/api/v1/bulletins/"])
def test_it_lists_in_a_fixed_number_of_queries(api, supervisor, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = api.as_user(supervisor)

    def make(months):
        with time_machine.travel(at("2026-11-15"), tick=False):
            for month in months:
                services.compute_ranking(month=dt.date(2026, month, 1), tier="district", actor=supervisor)
                services.generate_bulletin(kind="monthly", on=dt.date(2026, month, 1))

    make([10])
    with CaptureQueriesContext(connection) as one:
        assert len(c.get(url).json()["results"]) == 1
    make([7, 8, 9])
    with CaptureQueriesContext(connection) as four:
        assert len(c.get(url).json()["results"]) == 4
    assert len(one) == len(four)
