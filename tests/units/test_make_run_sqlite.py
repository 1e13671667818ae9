"""``make run`` on its embedded default: SQLite, no Redis. The demo loads and the pages that read
the daily aggregates show figures (the PostgreSQL-only upserts have SQLite fallbacks)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import re
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
from units.models import User
client = Client()
client.force_login(User.objects.get(username="center"))
for url in ("/", "/analytics/", "/appeals/", "/workorders/", "/alerts/", "/routing/", "/analytics/rankings/"):
    response = client.get(url, HTTP_HOST="127.0.0.1")
    print("STATUS", url, response.status_code)
html = client.get("/analytics/", HTTP_HOST="127.0.0.1").content.decode()
print("SATISFACTION", re.search(r'data-metric="satisfaction"[^>]*title="([^"]*)"', html).group(1))
"""


def test_the_demo_loads_and_shows_figures_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(DJANGO_DEBUG="1", SQLITE_PATH=str(tmp_path / "demo.sqlite3"), MEDIA_ROOT=str(tmp_path / "media"))

    def manage(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip

    assert manage("migrate", "-v0").returncode == 0
    loaded = manage("load_demo")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    probe = manage("shell", stdin=PROBE)
    assert probe.returncode == 0, probe.stderr[-3000:]
    statuses = [line.split() for line in probe.stdout.splitlines() if line.startswith("STATUS")]
    assert statuses and all(code == "200" for _s, _url, code in statuses), statuses
    satisfaction = next(line for line in probe.stdout.splitlines() if line.startswith("SATISFACTION")).split()[1]
    assert satisfaction != "0/0", "the dashboard shows no figures after the demo load"
