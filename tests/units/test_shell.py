"""The staff shell: login, home page per role, language switch, admin, token auth, demo data."""

import re

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from units.models import Unit, User

ROLES_HOME_TITLE = {
    "center": "中心坐席工作台",
    "handler": "承办民警工作台",
    "leader": "单位负责人工作台",
    "handler2": "承办民警工作台",
    "supervisor": "督察工作台",
    "admin": "系统管理员工作台",
}


def test_it_redirects_anonymous_visitors_to_the_chinese_login_page(client, city):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    page = client.get("/login/")
    assert "登录" in page.content.decode()


@pytest.mark.parametrize("username", ROLES_HOME_TITLE)
def test_it_shows_each_role_its_own_home_page(client, city, username):
    assert client.login(username=username, password="demo12345")
    html = client.get("/").content.decode()
    assert ROLES_HOME_TITLE[username] in html


def test_it_shows_the_admin_menu_to_administrators_only(client, city):
    client.login(username="admin", password="demo12345")
    assert "/admin/" in client.get("/").content.decode()
    client.logout()
    client.login(username="handler", password="demo12345")
    assert 'href="/admin/"' not in client.get("/").content.decode()


def test_it_switches_to_english(client, city):
    client.login(username="center", password="demo12345")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert 'lang="en"' in html
    assert "Log out" in html


def test_it_translates_the_admin(client, city):
    client.login(username="admin", password="demo12345")
    html = client.get("/admin/").content.decode()
    assert "系统管理" in html
    assert "任务执行结果" in html  # a third-party app's name, from our zh_Hans catalogue
    assert client.get("/admin/units/unit/").status_code == 200
    assert client.get("/admin/units/user/").status_code == 200


def test_it_issues_an_api_token_for_a_username_and_password(api, city):
    response = api.post("/api/v1/auth/token/", {"username": "center", "password": "demo12345"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").json()["username"] == "center"


def test_it_refuses_a_token_for_a_wrong_password_in_chinese(api, city):
    response = api.post("/api/v1/auth/token/", {"username": "center", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "用户名或密码错误。"


def test_it_loads_the_demo_twice_without_duplicating(db, settings):
    settings.DEBUG = True  # the demo refuses to load without DEBUG (or --allow-production)
    call_command("load_demo")
    counts = (Unit.objects.count(), User.objects.count())
    call_command("load_demo")
    assert (Unit.objects.count(), User.objects.count()) == counts
    assert counts[0] == 25  # 23 units and the two police rooms under 滨江派出所
    assert set(User.objects.values_list("username", flat=True)) >= set(ROLES_HOME_TITLE)


def _plain_get_urls(resolver=None, prefix=""):
    """Every URL without parameters, for scanning rendered pages."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        route = str(p.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(p, URLResolver):
            yield from _plain_get_urls(p, prefix + route)
        elif isinstance(p, URLPattern):
            yield "/" + prefix + route


EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//(?!127\.0\.0\.1|localhost|testserver)""", re.I)


@pytest.mark.parametrize("username", ["center", "handler", "leader", "supervisor", "admin", None])
def test_it_loads_nothing_from_another_host(client, city, username):
    if username:
        client.login(username=username, password="demo12345")
    scanned = 0
    for url in sorted(set(_plain_get_urls())):
        if url.startswith(("/logout", "/i18n/", "/api/schema")) or "sms/twilio" in url:
            continue
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        scanned += 1
        body = response.content.decode()
        assert not EXTERNAL.search(body), f"{url} refers to another host: {EXTERNAL.search(body).group(0)}"
    assert scanned >= 2


def test_it_stays_in_chinese_for_an_english_browser_until_english_is_chosen(client, city):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html
    assert "用户名" in html


def test_it_lights_one_menu_entry_the_longest_match(rf, center):
    from units.context_processors import navigation

    request = rf.get("/units/notifications/")
    request.user = center
    active = [i["url"] for i in navigation(request)["nav_items"] if i["active"]]
    assert active == ["/units/notifications/"]
