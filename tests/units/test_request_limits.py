"""Hostile JSON bodies are refused with 400/413 and a JSON answer, never a 500.

Anonymous callers reach the token endpoint and (with a key) the feed pushes; a body that is an
array, has numbers or objects where strings belong, nests 1,000 or 100,000 levels (json.loads
recurses and raises RecursionError) or weighs 30 MB must be refused before it costs anything.
"""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from feeds import signing
from feeds.choices import FeedKind
from feeds.models import FeedSource
from intake.choices import Channel
from units.parsers import LimitedJSONParser, RequestTooLarge, json_depth_exceeds

TOKEN = "/api/v1/auth/token/"
APPEALS = "/api/v1/appeals/"
PUSH = "/api/v1/feeds/12345/appeals/"
KEY = "test-limits-12345-key"
SECRET = "limits-signing-secret"


@pytest.fixture(autouse=True)
def _clean_throttle_counters():
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


def client() -> APIClient:
    # A 500 comes back as a response (not as the view's exception), so every case is asserted
    # on its status code.
    return APIClient(raise_request_exception=False)


def deep_array(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def thirty_megabytes() -> bytes:
    return b'{"username": "' + b"a" * (30 * 1024 * 1024) + b'", "password": "x"}'


def post(api: APIClient, url: str, body: bytes, **extra):
    return api.post(url, data=body, content_type="application/json", **extra)


def assert_refused(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


@pytest.fixture
def push_source(db) -> FeedSource:
    source = FeedSource(code="12345", name="平台12345", kind=FeedKind.APPEALS, channel=Channel.FEED_12345)
    source.set_key(KEY)
    source.save()
    return source


# --- the token endpoint (anonymous) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'["center", "demo12345"]',
        b"123",
        b'"center"',
        b"null",
        b'{"username": 123, "password": 456}',
        b'{"username": {"a": 1}, "password": "demo12345"}',
        b'{"username": ["center"], "password": "demo12345"}',
        b'{"username": null, "password": null}',
        b'{"username": true, "password": false}',
        b'{"username": "center"}',
        b'{"username": "' + b"u" * 151 + b'", "password": "demo12345"}',
        b'{"username": "center", "password": "' + b"p" * 129 + b'"}',
        b'{"username": "center", "password": ',
    ],
    ids=[
        "empty-array",
        "array",
        "number",
        "string",
        "null",
        "numbers",
        "object",
        "list-field",
        "null-fields",
        "booleans",
        "missing-password",
        "long-username",
        "long-password",
        "truncated",
    ],
)
def test_the_token_endpoint_answers_400_to_malformed_input(city, body):
    data = assert_refused(post(client(), TOKEN, body), 400)
    assert data["detail"]


@pytest.mark.parametrize("levels", [1_000, 100_000])
@pytest.mark.parametrize("make", [deep_array, deep_object], ids=["array", "object"])
def test_the_token_endpoint_refuses_deep_nesting_with_400(db, levels, make):
    data = assert_refused(post(client(), TOKEN, make(levels)), 400)
    assert str(settings.API_JSON_MAX_DEPTH) in data["detail"]


def test_the_token_endpoint_refuses_nesting_inside_a_field(db):
    body = b'{"username": ' + deep_array(5_000) + b', "password": "x"}'
    assert_refused(post(client(), TOKEN, body), 400)


def test_the_token_endpoint_still_gives_a_token_for_good_credentials(city):
    response = post(client(), TOKEN, json.dumps({"username": "center", "password": "demo12345"}).encode())
    assert response.status_code == 200, response.content
    assert response.json()["token"]
    refused = post(client(), TOKEN, json.dumps({"username": "center", "password": "wrong"}).encode())
    assert assert_refused(refused, 400)["detail"]


def test_the_token_endpoint_refuses_30_megabytes_with_413(db):
    data = assert_refused(post(client(), TOKEN, thirty_megabytes()), 413)
    assert "请求体过大" in data["detail"]


def test_a_form_encoded_body_above_the_upload_limit_is_refused_with_413(db):
    body = b"username=" + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b"&password=x"
    response = client().post(TOKEN, data=body, content_type="application/x-www-form-urlencoded")
    assert_refused(response, 413)


# --- the appeals API (staff) -----------------------------------------------------------------------


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_the_appeals_api_refuses_deep_nesting_with_400(center, levels):
    api = client()
    api.force_authenticate(center)
    for body in (deep_array(levels), deep_object(levels)):
        assert_refused(post(api, APPEALS, body), 400)
        assert_refused(post(api, APPEALS + "caller-history/", body), 400)


def test_the_appeals_api_refuses_an_array_and_30_megabytes(center):
    api = client()
    api.force_authenticate(center)
    assert_refused(post(api, APPEALS, b"[]"), 400)
    assert_refused(post(api, APPEALS, b'[{"channel": "hotline", "content": "x"}]'), 400)
    assert_refused(post(api, APPEALS, thirty_megabytes()), 413)


def test_shallow_json_below_the_limit_is_still_accepted(center):
    api = client()
    api.force_authenticate(center)
    body = {"channel": "hotline", "content": "小区楼下夜市烧烤噪音很大", "citizen_phone": "13800007001"}
    response = post(api, APPEALS, json.dumps(body, ensure_ascii=False).encode())
    assert response.status_code == 201, response.content


# --- the feed pushes (key-authenticated platforms) -------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [deep_array(1_000), deep_object(1_000), deep_array(100_000), deep_object(100_000), b"[]", b"123"],
    ids=["array-1000", "object-1000", "array-100000", "object-100000", "empty-array", "number"],
)
def test_a_feed_push_refuses_deep_nesting_and_non_objects_with_400(push_source, body):
    assert_refused(post(client(), PUSH, body, HTTP_AUTHORIZATION=f"Bearer {KEY}"), 400)


def test_a_signed_feed_push_refuses_deep_nesting_and_30_megabytes(push_source):
    push_source.hmac_secret = SECRET
    push_source.save()
    for body, expected in ((deep_array(100_000), 400), (thirty_megabytes(), 413)):
        headers = {
            "HTTP_AUTHORIZATION": f"Bearer {KEY}",
            "HTTP_X_SIGNATURE": signing.sign(SECRET, body),
        }
        assert_refused(post(client(), PUSH, body, **headers), expected)


def test_a_feed_push_refuses_30_megabytes_with_413(push_source):
    response = post(client(), PUSH, thirty_megabytes(), HTTP_AUTHORIZATION=f"Bearer {KEY}")
    assert "请求体过大" in assert_refused(response, 413)["detail"]


def test_a_service_record_push_refuses_deep_nesting(db):
    source = FeedSource(code="service-records", name="业务系统", kind=FeedKind.SERVICE_RECORDS)
    source.set_key("test-records-key")
    source.save()
    auth = {"HTTP_AUTHORIZATION": "Bearer test-records-key"}
    assert_refused(post(client(), "/api/v1/feeds/service-records/", deep_array(100_000), **auth), 400)


# --- the parser itself -----------------------------------------------------------------------------


def test_the_depth_scan_counts_brackets_outside_strings_only():
    limit = 3
    assert not json_depth_exceeds('[[["x"]]]', limit)
    assert json_depth_exceeds('[[[["x"]]]]', limit)
    # Brackets inside strings, escaped quotes included, do not count.
    assert not json_depth_exceeds(json.dumps({"a": "[[[[{{{{" * 1000, "b": 'say "[[[["'}), limit)
    assert not json_depth_exceeds(json.dumps(["\\", "[[[[[["]), limit)
    assert json_depth_exceeds(json.dumps([[[["\\"]]]]), limit)


def test_the_parser_caps_a_stream_without_a_declared_length(settings):
    settings.API_JSON_MAX_BYTES = 1000
    stream = io.BytesIO(b'{"a": "' + b"x" * 5000 + b'"}')
    with pytest.raises(RequestTooLarge):
        LimitedJSONParser().parse(stream, "application/json", {})
    assert LimitedJSONParser().parse(io.BytesIO(b'{"a": [1, 2]}'), "application/json", {}) == {"a": [1, 2]}
