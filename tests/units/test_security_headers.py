"""Production hardening: deploy checks, security headers, no inline script or style, secure cookies.

The deploy check runs the settings module in a subprocess with exactly the environment
docker-compose.yml gives the ``web`` service (DEBUG off, secrets set to test values), so a setting
that only the real production environment would reveal is caught here.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client, override_settings

from intake import ratelimit
from surveys import qr
from surveys.services.qr_ratings import save_rating_point
from workorders import services as workorder_services

BASE_DIR = Path(settings.BASE_DIR)
COMPOSE_VAR = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")

# Cookie settings read back from the production settings module.
COOKIE_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "LANGUAGE_COOKIE_SECURE",
    "LANGUAGE_COOKIE_HTTPONLY",
    "LANGUAGE_COOKIE_SAMESITE",
)


def compose_web_env() -> dict[str, str]:
    """The environment docker-compose gives the web service, with test values for the secrets
    (``${VAR:?…}``) and the compose defaults for the rest (``${VAR:-default}``)."""
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8"))
    environment = dict(compose["services"]["web"]["environment"])
    test_secrets = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PHONE_ENCRYPTION_KEYS": __import__("base64").urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PHONE_HASH_KEY": secrets.token_hex(32),
        "POSTGRES_PASSWORD": "test-password",
    }

    def substitute(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in test_secrets:
            return test_secrets[name]
        return default or ""

    env = {name: COMPOSE_VAR.sub(substitute, str(value)) for name, value in environment.items()}
    # Only the compose environment: nothing from this test run (DJANGO_DEBUG=1) nor the .env file.
    env.update({"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DJANGO_ENV_FILE": os.devnull})
    return env


def run_in_production(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=compose_web_env(), capture_output=True, text=True, timeout=120
    )


SECURITY_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
)


@pytest.fixture(scope="module")
def production() -> dict:
    """The security and cookie settings the production settings module computes."""
    names = COOKIE_SETTINGS + SECURITY_SETTINGS
    script = (
        "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'opinion_center.settings'; django.setup(); "
        f"from django.conf import settings; print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    done = run_in_production("-c", script)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_deploy_check_passes_with_the_compose_environment():
    done = run_in_production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNINGS" not in output and "security.W" not in output, output


def test_production_settings_send_hsts_and_redirect_to_https_except_the_probes(production, client, db):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and production["SECURE_HSTS_PRELOAD"] is True
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    with override_settings(
        SECURE_SSL_REDIRECT=True,
        SECURE_REDIRECT_EXEMPT=production["SECURE_REDIRECT_EXEMPT"],
        SECURE_PROXY_SSL_HEADER=tuple(production["SECURE_PROXY_SSL_HEADER"]),
    ):
        # The container health check and the proxy's probes speak plain HTTP to gunicorn.
        for probe in ("/healthz", "/readyz", "/healthz/", "/readyz/"):
            assert client.get(probe).status_code == 200, probe
        redirected = client.get("/login/")
        assert redirected.status_code == 301 and redirected["Location"].startswith("https://")
        assert client.get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200


# --- headers and inline code on every kind of page ----------------------------------------------


class InlineCodeFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: script bodies, <style> elements,
    style="" attributes, on*="" handlers and htmx hx-on attributes (evaluated like handlers)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, _value in attrs:
            if name == "style" or re.fullmatch(r"on[a-z]+", name) or name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self._script = {"text": ""}

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            if self._script["text"].strip():
                self.problems.append(f"inline <script>: {self._script['text'].strip()[:60]}")
            self._script = None


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems


def assert_security_headers(response, path: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp, f"{path}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{path}: {csp}"
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", f"{path}: {csp}"
    assert directives.get("script-src", "").split()[1:] == ["'self'"], f"{path}: {csp}"
    assert directives.get("style-src", "").split()[1:] == ["'self'"], f"{path}: {csp}"
    assert response.headers.get("X-Frame-Options") == "DENY", path
    assert response.headers.get("Referrer-Policy") in {"same-origin", "strict-origin-when-cross-origin"}, path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    permissions = response.headers.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions, f"{path}: {permissions}"


@pytest.fixture
def pages_world(center, station):
    from intake import services as intake_services

    appeal, _ = intake_services.create_appeal(
        channel="hotline", content="夜间施工噪音扰民,请派出所处理", citizen_phone="13800001701"
    )
    other, _ = intake_services.create_appeal(
        channel="hotline", content="小区门口违章停车堵路", citizen_phone="13800001702"
    )
    order = workorder_services.dispatch_appeal(other, unit=station, actor=center)
    point = save_rating_point(None, actor=center, unit=station, kind="window", name="户籍窗口")
    return {"appeal": appeal, "order": order, "point": point}


STAFF_PAGES = [
    ("center", "/"),
    ("center", "/appeals/"),
    ("center", "/appeals/hotline/"),
    ("center", "/appeals/{appeal}/"),
    ("center", "/workorders/{order}/"),
    ("center", "/workorders/review/"),
    ("center", "/analytics/"),
    ("center", "/analytics/rankings/"),
    ("center", "/analytics/bulletins/"),
    ("center", "/surveys/"),
    ("center", "/surveys/callbacks/"),
    ("center", "/surveys/rating-points/"),
    ("center", "/surveys/rating-points/{point}/"),
    ("center", "/surveys/rating-points/sheet/"),
    ("center", "/surveys/polls/"),
    ("center", "/units/"),
    ("center", "/units/notifications/"),
    ("center", "/feeds/imports/"),
    ("handler", "/"),
    ("handler", "/workorders/"),
    ("handler", "/workorders/{order}/"),
    ("supervisor", "/"),
    ("leader", "/"),
    ("admin", "/"),
    ("admin", "/admin/"),
    ("admin", "/admin/units/unit/"),
    ("admin", "/admin/units/unit/add/"),
    ("center", "/api/docs/"),
]


def _fill(path: str, world: dict) -> str:
    return path.format(appeal=world["appeal"].pk, order=world["order"].pk, point=world["point"].pk)


def test_every_kind_of_public_page_has_the_headers_and_no_inline_code(client, pages_world):
    pages = [
        "/login/",
        "/mailbox/mayor/",
        "/mailbox/director/",
        "/track/",
        qr.rating_path(pages_world["point"]),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response, path)
        assert inline_code(response.content.decode()) == [], path


@pytest.mark.parametrize("username,path", STAFF_PAGES)
def test_every_kind_of_staff_page_has_the_headers_and_no_inline_code(client, pages_world, username, path):
    client.login(username=username, password="demo12345")
    url = _fill(path, pages_world)
    response = client.get(url)
    assert response.status_code == 200, url
    assert_security_headers(response, url)
    assert inline_code(response.content.decode()) == [], url


def test_the_api_answers_json_with_the_headers(client, pages_world):
    client.login(username="center", password="demo12345")
    response = client.get("/api/v1/appeals/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert_security_headers(response, "/api/v1/appeals/")


def test_the_finder_catches_each_kind_of_inline_code():
    html = (
        '<div style="color:red"></div><a onclick="x()">a</a><form hx-on:submit="y()"></form>'
        "<style>p{}</style><script>alert(1)</script>"
        '<script src="/static/a.js"></script><script id="d" type="application/json">{"a": 1}</script>'
    )
    assert len(inline_code(html)) == 5


# --- templates: keep inline code from creeping back ---------------------------------------------

TEMPLATE_PATTERNS = {
    "<style> element": re.compile(r"<style\b", re.I),
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*[^<\s]", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "on*= handler": re.compile(r"\son[a-z]+\s*=\s*[\"'{]", re.I),
    "hx-on attribute": re.compile(r"\s(?:data-)?hx-on\b", re.I),
}


def test_no_template_contains_inline_script_or_style():
    found = []
    for template in sorted((BASE_DIR / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for what, pattern in TEMPLATE_PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(BASE_DIR)}:{line}: {what}")
    assert found == []


# --- cookies --------------------------------------------------------------------------------------


def _assert_cookie(cookie, *, httponly: bool = True) -> None:
    assert cookie["secure"] is True, cookie.key
    assert cookie["samesite"] in {"Lax", "Strict"}, cookie.key
    if httponly:
        assert cookie["httponly"] is True, cookie.key


def test_production_cookies_are_secure_httponly_and_samesite(production, pages_world):
    production_cookie_settings = {name: production[name] for name in COOKIE_SETTINGS}
    assert production_cookie_settings["SESSION_COOKIE_SECURE"] is True
    assert production_cookie_settings["CSRF_COOKIE_SECURE"] is True
    # htmx sends the token from the page (hx-headers), so no script needs to read the cookie.
    assert production_cookie_settings["CSRF_COOKIE_HTTPONLY"] is True
    assert production_cookie_settings["LANGUAGE_COOKIE_SECURE"] is True
    with override_settings(**production_cookie_settings):
        client = Client()
        login_page = client.get("/login/")
        _assert_cookie(login_page.cookies[settings.CSRF_COOKIE_NAME])
        assert 'name="csrfmiddlewaretoken"' in login_page.content.decode()

        logged_in = client.post("/login/", {"username": "center", "password": "demo12345"})
        assert logged_in.status_code == 302
        _assert_cookie(logged_in.cookies[settings.SESSION_COOKIE_NAME])

        switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        _assert_cookie(switched.cookies[settings.LANGUAGE_COOKIE_NAME])

        home = client.get("/").content.decode()
        assert "X-CSRFToken" in home  # the token htmx sends comes from the page

        for path in ("/mailbox/mayor/", qr.rating_path(pages_world["point"])):
            public = Client().get(path)
            _assert_cookie(public.cookies[ratelimit.DEVICE_COOKIE])
