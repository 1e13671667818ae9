"""A received time must be plausible: not before 2000, not more than a few minutes ahead.

The appeals API and the platform pushes share one validator."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import Appeal
from tests.feeds.conftest import KEYS, sources  # noqa: F401  (the feed sources fixture)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/appeals/"
PUSH = "/api/v1/feeds/12345/appeals/"


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


IMPLAUSIBLE = {
    "year-812": "0812-05-20T10:00:00+08:00",
    "1999": "1999-12-31T23:59:00+08:00",
    "tomorrow": "tomorrow",
}


def _value(name: str) -> str:
    if name == "tomorrow":
        return _iso(timezone.now() + dt.timedelta(days=1))
    return IMPLAUSIBLE[name]


@pytest.mark.parametrize("name", IMPLAUSIBLE)
def test_it_refuses_an_implausible_received_time_in_the_appeals_api(api, center, name):
    payload = {"channel": "12389", "external_id": f"J-{name}", "content": "反映问题", "received_at": _value(name)}
    response = api.as_user(center).post(LIST, payload, format="json")
    assert response.status_code == 400, response.content
    assert "受理时间" in json.dumps(response.json(), ensure_ascii=False)
    assert not Appeal.objects.exists()


def test_it_accepts_a_plausible_received_time_in_the_appeals_api(api, center):
    at = timezone.now() - dt.timedelta(hours=3)
    payload = {"channel": "12389", "external_id": "J-OK", "content": "反映问题", "received_at": _iso(at)}
    response = api.as_user(center).post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    assert Appeal.objects.get().received_at == at
    # A clock a minute ahead of ours is not an error.
    ahead = {**payload, "external_id": "J-AHEAD", "received_at": _iso(timezone.now() + dt.timedelta(minutes=1))}
    assert api.post(LIST, ahead, format="json").status_code == 201


def _push(received_at: str, external_id: str):
    body = {"external_id": external_id, "received_at": received_at, "content": "噪音扰民"}
    return APIClient().post(
        PUSH,
        data=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {KEYS['12345']}",
    )


@pytest.mark.parametrize("name", IMPLAUSIBLE)
def test_it_refuses_an_implausible_received_time_in_a_feed_push(sources, city, name):  # noqa: F811
    response = _push(_value(name), f"SX-{name}")
    assert response.status_code == 400, response.content
    assert "受理时间" in json.dumps(response.json(), ensure_ascii=False)
    assert not Appeal.objects.exists()


def test_it_accepts_a_plausible_received_time_in_a_feed_push(sources, city):  # noqa: F811
    response = _push(_iso(timezone.now() - dt.timedelta(days=2)), "SX-OK")
    assert response.status_code in (200, 201), response.content
    assert Appeal.objects.count() == 1
