"""Staff logins lock after repeated failures (per account and per client address, on the login page
and the token endpoint alike, state in PostgreSQL); API tokens expire and can be revoked."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from units.models import ApiToken, LoginLockout

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def login(client, username="center", password="demo12345"):
    return client.post("/login/", {"username": username, "password": password})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def get_token(api, username="center", password="demo12345"):
    return api.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_it_refuses_the_right_password_after_six_wrong_ones_on_the_login_page(city):
    client = Client()
    for _ in range(6):
        assert login(client, password="wrong-guess").status_code == 200
    response = login(client)
    assert not logged_in(client)
    page = response.content.decode()
    assert "已被锁定" in page and "联系系统管理员解锁" in page
    lockout = LoginLockout.objects.get(scope=LoginLockout.Scope.ACCOUNT, key="center")
    assert lockout.failures == 5 and lockout.is_active
    # Another account from another address is not affected.
    other = Client(REMOTE_ADDR="10.20.0.7")
    login(other, username="handler")
    assert logged_in(other)


def test_it_refuses_the_right_password_on_the_token_endpoint_too(city):
    api = APIClient()
    for _ in range(6):
        assert get_token(api, password="wrong-guess").status_code in (400, 429)
    locked = get_token(api)
    assert locked.status_code == 429
    assert "已被锁定" in locked.json()["detail"] and locked.json()["locked_until"]
    assert int(locked["Retry-After"]) > 0
    # The same lock holds on the login page.
    client = Client()
    login(client)
    assert not logged_in(client)


def test_an_administrator_unlocks_an_account_and_the_release_is_recorded(city, administrator):
    client = Client()
    for _ in range(5):
        login(client, password="wrong-guess")
    lockout = LoginLockout.objects.get(key="center")
    admin = Client(REMOTE_ADDR="10.20.0.8")
    admin.force_login(administrator)
    response = admin.post(
        "/admin/units/loginlockout/", {"action": "unlock", "_selected_action": [lockout.pk]}, follow=True
    )
    assert response.status_code == 200 and "已解除 1 项锁定" in response.content.decode()
    lockout.refresh_from_db()
    assert lockout.unlocked_at is not None and lockout.unlocked_by == administrator
    assert LogEntry.objects.filter(object_id=str(lockout.pk), change_message="解除登录锁定").exists()
    login(client)
    assert logged_in(client)
    assert get_token(APIClient()).status_code == 200


def test_it_locks_a_client_address_across_usernames(city, settings):
    settings.AUTH_LOCKOUT_ADDRESS_FAILURES = 5
    attacker = Client(REMOTE_ADDR="10.66.0.1")
    for name in ("center", "handler", "leader", "handler2", "supervisor"):
        login(attacker, username=name, password="wrong-guess")
    assert LoginLockout.objects.filter(scope=LoginLockout.Scope.ADDRESS, key="10.66.0.1").exists()
    login(attacker, username="admin")
    assert not logged_in(attacker)
    assert "该网络地址登录失败次数过多" in login(attacker, username="admin").content.decode()
    assert get_token(APIClient(REMOTE_ADDR="10.66.0.1"), username="admin").status_code == 429
    # The accounts themselves are not locked: from another address they log in.
    elsewhere = Client(REMOTE_ADDR="10.66.0.2")
    login(elsewhere, username="center")
    assert logged_in(elsewhere)


def test_a_lock_ends_by_itself_after_the_configured_time(city, settings):
    settings.AUTH_LOCKOUT_MINUTES = 15
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            login(client, password="wrong-guess")
        login(client)
        assert not logged_in(client)
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        # One more wrong password does not lock again at once: the locked failures were paid for.
        login(client, password="wrong-guess")
        login(client)
        assert logged_in(client)


def test_a_right_password_forgets_earlier_failures(city):
    client = Client()
    for _ in range(4):
        login(client, password="wrong-guess")
    login(client)
    assert logged_in(client)
    client.logout()
    for _ in range(4):
        login(client, password="wrong-guess")
    login(client)
    assert logged_in(client) and not LoginLockout.objects.exists()


def test_the_lockout_holds_while_redis_is_down(city, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    api = APIClient()
    for _ in range(5):
        get_token(api, password="wrong-guess")
    assert get_token(api).status_code == 429


def test_a_token_expires_after_its_lifetime(city, settings):
    settings.API_TOKEN_LIFETIME_HOURS = 12
    start = timezone.now()
    api = APIClient()
    with time_machine.travel(start, tick=False):
        body = get_token(api).json()
        assert dt.datetime.fromisoformat(body["expires_at"]) == start + dt.timedelta(hours=12)
        api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
        assert api.get("/api/v1/me/").status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=11, minutes=59), tick=False):
        assert api.get("/api/v1/me/").status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=12, seconds=1), tick=False):
        expired = api.get("/api/v1/me/")
        assert expired.status_code == 401 and "已过期" in expired.json()["detail"]
        assert expired["WWW-Authenticate"] == "Token"


def test_a_user_revokes_his_token_by_post_or_delete(city):
    api = APIClient()
    first = get_token(api).json()["token"]
    second = get_token(api).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.post("/api/v1/auth/token/revoke/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401
    # The other token of the same user still works until it is revoked with DELETE.
    api.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api.get("/api/v1/me/").status_code == 200
    assert api.delete(TOKEN_URL).status_code == 204
    assert api.get("/api/v1/me/").status_code == 401
    # A stale token in the headers does not stop asking for a new one.
    fresh = get_token(api)
    assert fresh.status_code == 200
    assert not ApiToken.objects.filter(digest__in=[first, second]).exists()  # only digests are stored


def test_an_administrator_revokes_a_token_in_the_admin(city, administrator):
    api = APIClient()
    key = get_token(api).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    token = ApiToken.objects.get(user__username="center")
    admin = Client()
    admin.force_login(administrator)
    admin.post("/admin/units/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_by == administrator
    assert LogEntry.objects.filter(object_id=str(token.pk), change_message="撤销 API 令牌").exists()
    assert api.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_token_is_read_once_per_process_and_a_revocation_stops_it_at_once_here_within_seconds_elsewhere(
    city, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from units import memo, services
    from units.models import User
    from units.selectors import live_tokens

    now = [1000.0]
    monkeypatch.setattr(memo, "_clock", lambda: now[0])
    live_tokens.clear()
    user = User.objects.get(username="center")

    def signed_in(key: str) -> int:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return api.get("/api/v1/me/").status_code

    token, key = services.issue_api_token(user=user)
    assert signed_in(key) == 200
    with CaptureQueriesContext(connection) as ctx:
        assert signed_in(key) == 200
    assert not [q["sql"] for q in ctx.captured_queries if "units_apitoken" in q["sql"]]

    # Revoked in this process: refused by the next request.
    services.revoke_api_token(token, actor=user)
    assert signed_in(key) == 401

    # Revoked by another process (no signal here): refused once the kept entry is older than 5 s.
    token, key = services.issue_api_token(user=user)
    assert signed_in(key) == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    now[0] += memo.MAX_AGE_SECONDS - 1
    assert signed_in(key) == 200
    now[0] += 1
    assert signed_in(key) == 401

    # A user deactivated here: his kept tokens are forgotten at once.
    token, key = services.issue_api_token(user=user)
    assert signed_in(key) == 200
    user.is_active = False
    user.save()
    assert signed_in(key) == 401


@pytest.mark.django_db(transaction=True)
def test_a_request_cannot_change_the_user_another_request_gets_from_a_kept_token(city):
    from units import services
    from units.models import User
    from units.selectors import live_api_token

    _token, key = services.issue_api_token(user=User.objects.get(username="center"))
    first = live_api_token(key)
    first.user.first_name = "改过"
    first.user.is_active = False
    second = live_api_token(key)
    assert second.user is not first.user and second is not first
    assert second.user.is_active and second.user.first_name != "改过"
