"""Platform pushes: POST /api/v1/feeds/<source>/appeals/ with a per-source key (SPEC §11)."""

from __future__ import annotations

import json
import time

import pytest
from rest_framework.test import APIClient

from feeds import signing
from feeds.services import generate_source_key
from intake.models import Appeal, AppealEvent

from .conftest import KEYS

URL = "/api/v1/feeds/{}/appeals/"


def payload(**overrides) -> dict:
    data = {
        "external_id": "SX20261120-0001",
        "received_at": "2026-11-20T09:30:00+08:00",
        "citizen_name": "王建国",
        "citizen_phone": "13800001234",
        "content": "滨江路夜间施工噪音扰民，多次反映无果。",
        "address": "临江市江北区滨江路88号",
        "category_hint": "噪音扰民",
        "is_enterprise": False,
    }
    data.update(overrides)
    return data


def push(source: str, data: dict, *, key: str | None = None, headers: dict | None = None, raw: bytes | None = None):
    client = APIClient()
    body = raw if raw is not None else json.dumps(data, ensure_ascii=False).encode()
    extra = {}
    if key:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    for name, value in (headers or {}).items():
        extra["HTTP_" + name.upper().replace("-", "_")] = value
    return client.post(URL.format(source), data=body, content_type="application/json", **extra)


def test_it_creates_an_appeal_then_answers_200_with_the_same_body_when_resent(sources, city):
    first = push("12345", payload(), key=KEYS["12345"])
    assert first.status_code == 201, first.content
    appeal = Appeal.objects.get(pk=first.json()["id"])
    assert first.json() == {"id": appeal.pk, "tracking_code": appeal.tracking_code}
    assert appeal.channel == "12345"
    assert appeal.external_id == "SX20261120-0001"
    assert appeal.citizen_phone == "+8613800001234"
    assert appeal.received_at.isoformat() == "2026-11-20T01:30:00+00:00"

    again = push("12345", payload(content="改了内容的重发"), key=KEYS["12345"])
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Appeal.objects.count() == 1
    appeal.refresh_from_db()
    assert appeal.content.startswith("滨江路")
    assert AppealEvent.objects.filter(appeal=appeal, action="received").count() == 1


def test_it_keeps_the_same_external_id_of_two_platforms_apart(sources, city):
    assert push("12345", payload(), key=KEYS["12345"]).status_code == 201
    assert push("12389", payload(), key=KEYS["12389"]).status_code == 201
    assert push("message-board", payload(), key=KEYS["message-board"]).status_code == 201
    assert sorted(Appeal.objects.values_list("channel", flat=True)) == ["12345", "12389", "message_board"]


def test_it_answers_400_with_chinese_field_errors(sources, city):
    response = push("12345", payload(content="", external_id=""), key=KEYS["12345"])
    assert response.status_code == 400
    assert set(response.json()) >= {"content", "external_id"}

    bad_phone = push("12345", payload(citizen_phone="12345"), key=KEYS["12345"])
    assert bad_phone.status_code == 400
    assert bad_phone.json() == {
        "citizen_phone": ["电话号码格式不正确。"],
        "detail": "电话号码格式不正确。",
        "code": "invalid",
    }

    bad_date = push("12345", payload(received_at="昨天下午"), key=KEYS["12345"])
    assert bad_date.status_code == 400
    assert "received_at" in bad_date.json()
    assert Appeal.objects.count() == 0


@pytest.mark.parametrize("key", [None, "wrong-key", "test-12345-key-but-longer"])
def test_it_answers_401_without_a_valid_key(sources, city, key):
    response = push("12345", payload(), key=key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Appeal.objects.count() == 0


def test_it_answers_401_for_a_staff_token_on_a_feed(sources, city, center):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=center)
    response = APIClient().post(URL.format("12345"), payload(), format="json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 401


def test_it_refuses_the_key_of_another_source(sources, city):
    response = push("12345", payload(), key=KEYS["12389"])
    assert response.status_code == 403
    records = push("12345", payload(), key="test-records-key")
    assert records.status_code == 403
    assert Appeal.objects.count() == 0


def test_it_refuses_an_unknown_source_and_an_inactive_one(sources, city):
    assert push("no-such-platform", payload(), key=KEYS["12345"]).status_code == 403
    sources["12345"].is_active = False
    sources["12345"].save()
    assert push("12345", payload(), key=KEYS["12345"]).status_code == 401


def test_it_stops_accepting_the_old_key_after_a_new_one_is_generated(sources, city, administrator):
    new_key = generate_source_key(sources["12345"], actor=administrator)
    assert new_key != KEYS["12345"]
    assert push("12345", payload(), key=KEYS["12345"]).status_code == 401
    assert push("12345", payload(), key=new_key).status_code == 201
    sources["12345"].refresh_from_db()
    assert sources["12345"].key_prefix == new_key[:8]
    assert new_key not in sources["12345"].key_hash


class TestSignedPushes:
    SECRET = "s3cret-of-12345"

    @pytest.fixture
    def signed(self, sources):
        source = sources["12345"]
        source.hmac_secret = self.SECRET
        source.save()
        return source

    def body(self) -> bytes:
        return json.dumps(payload(), ensure_ascii=False).encode()

    def test_it_accepts_a_valid_signature_of_the_raw_body(self, signed, city):
        body = self.body()
        headers = {"X-Signature": signing.sign(self.SECRET, body)}
        assert push("12345", {}, key=KEYS["12345"], raw=body, headers=headers).status_code == 201

    def test_it_refuses_a_missing_or_wrong_signature(self, signed, city):
        body = self.body()
        assert push("12345", {}, key=KEYS["12345"], raw=body).status_code == 401
        wrong = {"X-Signature": signing.sign("another-secret", body)}
        assert push("12345", {}, key=KEYS["12345"], raw=body, headers=wrong).status_code == 403
        tampered = {"X-Signature": signing.sign(self.SECRET, body)}
        assert (
            push(
                "12345", {}, key=KEYS["12345"], raw=body.replace("王".encode(), "李".encode()), headers=tampered
            ).status_code
            == 403
        )
        assert Appeal.objects.count() == 0

    def test_it_refuses_a_replayed_request_with_an_old_timestamp(self, signed, city, settings):
        settings.FEED_SIGNATURE_MAX_AGE = 300
        body = self.body()
        old = str(int(time.time()) - 3600)
        stale = {"X-Timestamp": old, "X-Signature": signing.sign(self.SECRET, body, timestamp=old)}
        response = push("12345", {}, key=KEYS["12345"], raw=body, headers=stale)
        assert response.status_code == 403
        assert "重放" in response.json()["detail"]
        fresh = signing.signed_headers(self.SECRET, body)
        assert push("12345", {}, key=KEYS["12345"], raw=body, headers=fresh).status_code == 201

    def test_it_requires_a_timestamp_when_the_source_says_so(self, signed, city):
        signed.require_timestamp = True
        signed.save()
        body = self.body()
        untimed = {"X-Signature": signing.sign(self.SECRET, body)}
        assert push("12345", {}, key=KEYS["12345"], raw=body, headers=untimed).status_code == 401
        assert (
            push(
                "12345", {}, key=KEYS["12345"], raw=body, headers=signing.signed_headers(self.SECRET, body)
            ).status_code
            == 201
        )


def test_it_throttles_per_source(sources, city, settings):
    # The settings override alone sets the rate (and takes it away again at the end of the test).
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"feed": "2/min", "anon": "60/min"}}
    codes = [push("12345", payload(external_id=f"T-{i}"), key=KEYS["12345"]).status_code for i in range(3)]
    other = push("12389", payload(external_id="T-9"), key=KEYS["12389"]).status_code
    assert codes == [201, 201, 429]
    assert other == 201


def test_a_throttle_rate_changed_in_the_settings_holds_only_while_the_change_does():
    from django.conf import settings as django_settings
    from django.test import override_settings

    from feeds.auth import FeedSourceThrottle
    from units.api.views import TokenLoginThrottle

    configured = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    rates = {**configured, "feed": "2/min", "anon": "3/min"}
    with override_settings(REST_FRAMEWORK={**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        assert FeedSourceThrottle().rate == "2/min"
        assert TokenLoginThrottle().rate == "3/min"
    assert FeedSourceThrottle().rate == configured["feed"]
    assert TokenLoginThrottle().rate == configured["anon"]
    assert "THROTTLE_RATES" not in vars(FeedSourceThrottle)  # nothing written onto the class


def test_it_lets_the_service_records_endpoint_reuse_the_feed_key_classes(sources, city):
    url = "/api/v1/feeds/service-records/"
    client = APIClient()
    assert client.post(url, [], format="json").status_code == 401
    assert client.post(url, [], format="json", HTTP_AUTHORIZATION=f"Bearer {KEYS['12345']}").status_code == 403
    assert client.post(url, [], format="json", HTTP_AUTHORIZATION="Bearer test-records-key").status_code == 200
    # …and the records key is no good for appeals.
    assert push("12345", payload(), key="test-records-key").status_code == 403


def test_it_shows_a_new_key_once_from_the_admin_action(client, sources, administrator):
    import re

    client.force_login(administrator)
    page = client.get("/admin/feeds/feedsource/")
    assert page.status_code == 200 and "test-123" in page.content.decode()  # the key prefix, never the key
    response = client.post(
        "/admin/feeds/feedsource/",
        {"action": "generate_new_key", "_selected_action": [sources["12345"].pk]},
        follow=True,
    )
    html = response.content.decode()
    [key] = re.findall(r"<code>(12345-[^<]+)</code>", html)
    assert push("12345", payload(), key=key).status_code == 201
    assert push("12345", payload(external_id="X-2"), key=KEYS["12345"]).status_code == 401
    assert key not in client.get("/admin/feeds/feedsource/").content.decode()


def test_it_gives_a_new_source_a_key_when_it_is_added_in_the_admin(client, city, administrator):
    client.force_login(administrator)
    response = client.post(
        "/admin/feeds/feedsource/add/",
        {
            "code": "enterprise-line",
            "name": "便企热线平台",
            "kind": "appeals",
            "channel": "enterprise",
            "is_active": "on",
        },
        follow=True,
    )
    assert "只显示这一次" in response.content.decode()
    from feeds.models import FeedSource

    assert FeedSource.objects.get(code="enterprise-line").key_prefix.startswith("enterpri")
