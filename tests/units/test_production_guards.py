"""Guards against production accidents: the demo loader, the phone keys, the .env file's mode."""

from __future__ import annotations

import base64
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from units.models import Unit, User

ROOT = Path(__file__).resolve().parents[2]
GOOD_FERNET = base64.urlsafe_b64encode(b"k" * 32).decode()
GOOD_HASH = "h" * 64


# --- load_demo -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_to_load_the_demo_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("load_demo", stdout=io.StringIO())
    assert not User.objects.exists()
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_it_loads_the_demo_without_debug_when_explicitly_allowed(settings):
    settings.DEBUG = False
    out = io.StringIO()
    call_command("load_demo", "--allow-production", stdout=out)
    assert User.objects.filter(username="admin").exists()
    assert "demo data loaded" in out.getvalue()


# --- phone keys validated at start-up ---------------------------------------------------------


def _start(tmp_path, *, command: list[str], **variables: str) -> subprocess.CompletedProcess:
    """Start a fresh process with exactly these settings variables (no .env file)."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    keep = ("PATH", "HOME", "LANG", "DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV")
    environ = {k: v for k, v in os.environ.items() if k in keep}
    environ.update(
        DJANGO_ENV_FILE=str(env_file),
        DJANGO_SETTINGS_MODULE="opinion_center.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="a-production-like-secret-key-for-the-test-only-0123456789",
    )
    environ.update(variables)
    return subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


WSGI_START = [sys.executable, "-c", "import opinion_center.wsgi"]
MANAGE_CHECK = [sys.executable, "manage.py", "check"]


def test_it_starts_with_valid_phone_keys(tmp_path):
    rotated = f"{Fernet.generate_key().decode()}, {GOOD_FERNET}"
    done = _start(tmp_path, command=WSGI_START, PHONE_ENCRYPTION_KEYS=rotated, PHONE_HASH_KEY=GOOD_HASH)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", [WSGI_START, MANAGE_CHECK], ids=["wsgi", "check"])
@pytest.mark.parametrize(
    "keys",
    ["not-a-fernet-key", f"{GOOD_FERNET},short", base64.urlsafe_b64encode(b"x" * 16).decode()],
    ids=["garbage", "second-bad", "16-bytes"],
)
def test_it_refuses_to_start_with_an_invalid_encryption_key(tmp_path, command, keys):
    done = _start(tmp_path, command=command, PHONE_ENCRYPTION_KEYS=keys, PHONE_HASH_KEY=GOOD_HASH)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "PHONE_ENCRYPTION_KEYS" in done.stderr
    assert keys not in done.stderr  # the key itself never goes to a log


@pytest.mark.parametrize("hash_key", ["", "   ", "too-short"])
def test_it_refuses_to_start_with_a_missing_or_short_hash_key(tmp_path, hash_key):
    done = _start(tmp_path, command=WSGI_START, PHONE_ENCRYPTION_KEYS=GOOD_FERNET, PHONE_HASH_KEY=hash_key)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "PHONE_HASH_KEY" in done.stderr


# --- the .env that make writes -----------------------------------------------------------------


def _read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_it_writes_the_development_env_file_readable_by_its_owner_only(tmp_path):
    target = tmp_path / ".env"
    old_umask = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        done = subprocess.run(
            [sys.executable, "scripts/write_env.py", str(target)], cwd=ROOT, capture_output=True, text=True
        )
    finally:
        os.umask(old_umask)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    values = _read_env(target)
    assert values["DJANGO_DEBUG"] == "1"
    assert values["SMS_SIMULATOR_ENABLED"] == "1"
    Fernet(values["PHONE_ENCRYPTION_KEYS"].encode())
    assert len(values["PHONE_HASH_KEY"]) >= 32
    assert len(values["DJANGO_SECRET_KEY"]) >= 40
    # The written file is one a fresh process accepts.
    started = _start(tmp_path, command=WSGI_START, **values)
    assert started.returncode == 0, started.stderr


def test_it_never_overwrites_an_existing_env_file(tmp_path):
    target = tmp_path / ".env"
    target.write_text("DJANGO_SECRET_KEY=keep-me\n")
    done = subprocess.run([sys.executable, "scripts/write_env.py", str(target)], cwd=ROOT, capture_output=True)
    assert done.returncode != 0
    assert target.read_text() == "DJANGO_SECRET_KEY=keep-me\n"


def test_it_makes_the_env_file_with_that_script():
    done = subprocess.run(["make", "-n", "-B", ".env"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "scripts/write_env.py .env" in done.stdout
