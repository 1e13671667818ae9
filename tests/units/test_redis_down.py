"""Redis is a helper, not a gate (ARCHITECTURE rule 14): with the cache server away, throttles,
rate limits, captcha claims and import progress fail open, and /readyz stays 200 ("degraded").

The cache here is a real Redis client pointed at a port where nothing listens, not a mock.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.test import Client
from rest_framework.test import APIClient

from feeds.choices import BatchStatus, FeedKind
from feeds.models import FeedSource, ImportBatch
from feeds.services import current_progress, set_progress
from intake.captcha import answer_for_tests
from intake.choices import Channel
from intake.models import Appeal

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A local port nobody listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """The default cache becomes a Redis at 127.0.0.1:<closed port>; every call to it raises."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # Changing CACHES resets django.core.cache.caches (django.test.signals); make sure it did.
    with pytest.raises(Exception, match="onnect"):
        caches["default"].get("anything")
    yield
    cache.close()


@pytest.fixture
def push_source(db) -> FeedSource:
    source = FeedSource(code="12345", name="平台12345", kind=FeedKind.APPEALS, channel=Channel.FEED_12345)
    source.set_key("test-12345-key")
    source.save()
    return source


def test_it_accepts_feed_pushes_while_redis_is_down(city, push_source, redis_down):
    body = {
        "external_id": "DOWN-0001",
        "received_at": "2026-11-20T09:30:00+08:00",
        "citizen_name": "王建国",
        "citizen_phone": "13800001234",
        "content": "滨江路夜间施工噪音扰民，多次反映无果。",
    }
    response = APIClient().post(
        "/api/v1/feeds/12345/appeals/",
        data=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer test-12345-key",
    )
    assert response.status_code == 201, response.content
    assert Appeal.objects.filter(external_id="DOWN-0001").exists()


def test_it_gives_tokens_while_redis_is_down(center, redis_down):
    center.set_password("demo12345")
    center.save()
    response = APIClient().post("/api/v1/auth/token/", {"username": "center", "password": "demo12345"})
    assert response.status_code == 200, response.content
    assert response.json()["token"]


def test_it_answers_track_lookups_while_redis_is_down(client, city, redis_down):
    client.get("/track/")
    response = client.post("/track/", {"code": "AAAAAAAA", "phone": "13800002468"})
    assert response.status_code == 200
    assert 'data-testid="track-not-found"' in response.content.decode()


def test_it_takes_a_mailbox_letter_while_redis_is_down(city, redis_down):
    browser = Client()
    page = browser.get("/mailbox/mayor/").content.decode()
    token = re.search(r'name="captcha_token" value="([^"]+)"', page).group(1)
    response = browser.post(
        "/mailbox/mayor/",
        {
            "citizen_name": "王秀兰",
            "citizen_phone": "13800002468",
            "title": "小区门口违停严重",
            "content": "小区门口每天晚上都有车辆违停,消防通道被堵,希望交警加强巡查。",
            "address": "临江市江北区滨江路18号",
            "captcha": str(answer_for_tests(token)),
            "captcha_token": token,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Appeal.objects.filter(channel=Channel.MAYOR_MAILBOX).count() == 1


def test_it_keeps_import_progress_from_the_row_while_redis_is_down(redis_down):
    set_progress(987654, 55)  # does not raise
    batch = ImportBatch(pk=987654, status=BatchStatus.RUNNING, progress=40)
    assert current_progress(batch) == 40


def test_it_stays_ready_but_degraded_while_redis_is_down(client, db, redis_down):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("degraded")
    assert "cache" in body["degraded"]


def test_it_warns_once_not_on_every_failed_cache_call(client, city, redis_down, caplog, monkeypatch):
    from units import cache as units_cache

    monkeypatch.setattr(units_cache, "_last_warning", float("-inf"))  # no outage warned about yet
    caplog.set_level(logging.WARNING, logger="units.cache")
    client.get("/track/")
    for _ in range(5):
        client.post("/track/", {"code": "AAAAAAAA", "phone": "13800002468"})
    warnings = [r for r in caplog.records if r.name == "units.cache"]
    assert len(warnings) == 1
    assert "fail" in warnings[0].getMessage().lower()


def test_it_gives_the_redis_cache_a_short_connect_timeout():
    """A Redis that is away (not refusing, just silent) must not hang a request for long."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DJANGO_ENV_FILE": "/dev/null",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_SETTINGS_MODULE": "opinion_center.settings",
    }
    code = "import json; from django.conf import settings; print(json.dumps(settings.CACHES['default']))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=str(ROOT), check=True
    )
    default = json.loads(result.stdout)
    assert default["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert 0 < default["OPTIONS"]["socket_connect_timeout"] <= 1
    assert 0 < default["OPTIONS"]["socket_timeout"] <= 1
