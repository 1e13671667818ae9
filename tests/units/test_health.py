"""GET /healthz and /readyz (SPEC §11)."""

import socket
import subprocess
import sys

from django.core.cache.backends.redis import RedisCache

from units import views


def test_it_answers_healthz(client, db):
    assert client.get("/healthz").status_code == 200


def test_it_answers_readyz_when_database_cache_and_broker_answer(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_it_answers_503_naming_what_failed_when_the_database_does_not_answer(client, db, monkeypatch):
    # A second connection to a PostgreSQL port where nothing listens: only the probe uses it.
    from django.db import connections

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = connections.create_connection("default")
    dead.settings_dict = {**dead.settings_dict, "HOST": "127.0.0.1", "PORT": str(port)}
    monkeypatch.setattr(views, "connection", dead)
    try:
        response = client.get("/readyz")
    finally:
        dead.close()
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert response.json()["status"] == "unavailable"


def test_it_stays_ready_but_says_degraded_when_the_cache_does_not_answer(client, db, monkeypatch):
    # A cache on a Redis port where nothing listens: it holds nothing that matters (rule 14).
    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})
    monkeypatch.setattr(views, "cache", dead)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["degraded"] == ["cache"] and response.json()["failed"] == []


def test_it_refuses_to_start_without_secrets_when_debug_is_off(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "0",
        "DJANGO_ENV_FILE": "/dev/null",
        "DJANGO_SETTINGS_MODULE": "opinion_center.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
