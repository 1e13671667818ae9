"""GET /healthz and /readyz (SPEC §11)."""

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


def test_it_answers_503_naming_what_failed(client, db, monkeypatch):
    # A cache on a Redis port where nothing listens.
    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})
    monkeypatch.setattr(views, "cache", dead)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


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
