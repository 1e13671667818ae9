"""``/api/v1/rating-points/``: center staff and administrators manage points; unit users read
their own units' points only (another station's point answers 404); anonymous callers get 401/403."""

from __future__ import annotations

import pytest
from django.test import Client

from surveys.models import Rating, RatingPoint
from surveys.services.qr_ratings import save_rating_point, submit_qr_rating

pytestmark = pytest.mark.django_db

URL = "/api/v1/rating-points/"


def test_it_refuses_anonymous_callers(api, point):
    assert api.get(URL).status_code in (401, 403)
    assert api.get(f"{URL}{point.pk}/").status_code in (401, 403)
    assert api.post(URL, {"unit": point.unit_id, "name": "x"}).status_code in (401, 403)


def test_a_handler_sees_only_his_units_points(api, handler, point, other_point):
    client = api.as_user(handler)
    body = client.get(URL).json()
    assert [p["name"] for p in body["results"]] == ["户籍窗口"]
    assert client.get(f"{URL}{other_point.pk}/").status_code == 404
    detail = client.get(f"{URL}{point.pk}/").json()
    assert detail["url"].endswith(f"/qr/{point.pk}.1:" + detail["url"].split(":")[-1])
    assert detail["qr_svg"].startswith("<svg")


def test_unit_users_cannot_write(api, handler, leader, point, station):
    for user in (handler, leader):
        client = api.as_user(user)
        assert client.post(URL, {"unit": station.pk, "kind": "window", "name": "新窗口"}).status_code == 403
        assert client.patch(f"{URL}{point.pk}/", {"name": "改名"}, format="json").status_code == 403
        assert client.post(f"{URL}{point.pk}/rotate/").status_code == 403
    point.refresh_from_db()
    assert (point.name, point.token_version) == ("户籍窗口", 1)


def test_center_staff_create_update_and_rotate(api, center, station, administrator):
    client = api.as_user(center)
    created = client.post(URL, {"unit": station.pk, "kind": "badge", "name": "民警王强", "officer_code": "010203"})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["unit_code"] == station.code
    assert client.post(URL, {"unit": station.pk, "kind": "badge", "name": "民警李明"}).status_code == 400
    duplicate = client.post(URL, {"unit": station.pk, "kind": "window", "name": "民警王强"})
    assert duplicate.status_code == 400 and "同名" in str(duplicate.json())
    updated = client.patch(f"{URL}{pk}/", {"is_active": False}, format="json")
    assert updated.status_code == 200 and updated.json()["is_active"] is False
    assert RatingPoint.objects.get(pk=pk).officer_code == "010203"
    rotated = api.as_user(administrator).post(f"{URL}{pk}/rotate/")
    assert rotated.status_code == 200 and rotated.json()["token_version"] == 2
    assert rotated.json()["url"].split("/qr/")[1].startswith(f"{pk}.2:")


def test_the_link_in_the_api_opens_the_form_and_a_rotation_kills_it(api, center, point):
    link = api.as_user(center).get(f"{URL}{point.pk}/").json()["url"]
    path = "/qr/" + link.split("/qr/")[1]
    browser = Client()
    assert browser.get(path).status_code == 200
    api.as_user(center).post(f"{URL}{point.pk}/rotate/")
    assert browser.get(path).status_code == 404


def test_qr_ratings_are_listed_by_the_ratings_api_with_their_point(api, leader, handler2, point):
    submit_qr_rating(point, verdict="basic", device_id="dev-api", tags=["slow"])
    body = api.as_user(leader).get("/api/v1/ratings/?source=qr").json()
    assert [(r["rating_point"], r["tags"], r["source"]) for r in body["results"]] == [(point.pk, ["slow"], "qr")]
    assert api.as_user(handler2).get("/api/v1/ratings/?source=qr").json()["results"] == []
    assert Rating.objects.count() == 1


def test_the_lists_cost_the_same_queries_for_3_or_6_points(api, center, station, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(url, c):
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(center)
    api.as_user(center)
    for n in range(3):
        save_rating_point(None, actor=center, unit=station, kind="window", name=f"{n}号窗口")
    few = (cost(URL, api), cost("/surveys/rating-points/", client))
    for n in range(3, 6):
        save_rating_point(None, actor=center, unit=station, kind="badge", name=f"民警{n}", officer_code=f"0{n}")
    assert (cost(URL, api), cost("/surveys/rating-points/", client)) == few
