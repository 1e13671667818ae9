"""The write path at province scale: a feed push and a staff create run a small, fixed number of
statements (no source read twice, no risk word re-read per push), and the shipped per-source
throttle answers 429 with Retry-After."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from intake.models import RiskWord

from .conftest import KEYS
from .test_push import payload, push

# The source, the external-id check, the caller's repeat candidates, the insert, its event, the
# day marks of the two apps that keep figures from appeals (analytics' aggregates, the surge
# baseline's counted days), and the channel's step-notice switch (off for 12345: no SMS).
PUSH_STATEMENTS = 8


def _push_statements(n: int) -> CaptureQueriesContext:
    with CaptureQueriesContext(connection) as ctx:
        response = push(
            "12345",
            payload(external_id=f"SX-WP-{n}", citizen_phone=f"1380000{n:04d}", category_hint=""),
            key=KEYS["12345"],
        )
    assert response.status_code == 201, response.content
    return ctx


def test_a_feed_push_runs_a_bounded_number_of_statements(sources, city):
    RiskWord.objects.create(word="跳楼")
    RiskWord.objects.create(word="自焚")
    _push_statements(0)  # the first push of a process reads the risk words once
    ctx = _push_statements(1)
    # Transaction control (SAVEPOINT/RELEASE in a test, BEGIN/COMMIT in production) aside.
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) <= PUSH_STATEMENTS, "\n".join(statements)
    assert not [s for s in statements if "intake_riskword" in s and "version" not in s], statements


# force_authenticate: the token look-up of a real request is one more. A hotline appeal also
# queues its receipt SMS (the switch, the opt-out list, the outbox's duplicate key, the template's
# text and provider, the insert): six of the eleven.
STAFF_STATEMENTS = 11


def test_a_staff_create_runs_a_bounded_number_of_statements(api, center, city):
    RiskWord.objects.create(word="跳楼")
    client = api.as_user(center)
    body = {"channel": "hotline", "content": "小区门口路灯不亮，晚上出行不便。", "citizen_phone": "13800005678"}
    assert client.post("/api/v1/appeals/", body, format="json").status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        body["citizen_phone"] = "13800005679"
        response = client.post("/api/v1/appeals/", body, format="json")
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) <= STAFF_STATEMENTS, "\n".join(s[:160] for s in statements)


def test_the_shipped_feed_throttle_carries_a_province_peak_and_answers_429_with_retry_after(sources, city, settings):
    from rest_framework.settings import api_settings

    shipped = api_settings.DEFAULT_THROTTLE_RATES["feed"]
    count, period = shipped.split("/")
    per_minute = int(count) * {"s": 60, "m": 1, "h": 1 / 60}[period[0]]
    # A province: ~17,000 appeals a day, all of them possibly through one platform, peaks ×10.
    assert per_minute >= 17_000 * 10 / (24 * 60)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "feed": "2/min"}}
    assert push("12345", payload(external_id="SX-T-1"), key=KEYS["12345"]).status_code == 201
    assert push("12345", payload(external_id="SX-T-2"), key=KEYS["12345"]).status_code == 201
    refused = push("12345", payload(external_id="SX-T-3"), key=KEYS["12345"])
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    # Per source: another platform is not refused because 12345 is busy.
    assert push("12389", payload(external_id="SX-T-4"), key=KEYS["12389"]).status_code == 201


def test_the_feed_throttle_keeps_one_number_per_source_at_any_rate(settings):
    """The rate's count at once, then one request per period/count; the key holds one number, so
    a request costs the same however busy the source is (DRF's list of request times grows)."""
    import uuid

    from django.core.cache import cache

    from units.cache import soft_cache

    key = f"test-take-{uuid.uuid4().hex}"
    assert [soft_cache.take(key, limit=3, period=60) for _ in range(3)] == [0, 0, 0]
    wait = soft_cache.take(key, limit=3, period=60)
    assert 19 < wait <= 20
    assert isinstance(cache.get(key), int)
    # Refused requests are not counted: the wait does not grow while a platform keeps retrying.
    assert soft_cache.take(key, limit=3, period=60) <= wait
