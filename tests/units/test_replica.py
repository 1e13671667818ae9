"""Analytics and exports read from a real PostgreSQL streaming replica; writes stay on the primary.

scripts/replica.sh starts a small primary cluster of its own (port 5441) and a hot standby that
streams from it (5442). The database is migrated on that primary, then tests/units/replica_probe.py
runs the product in its own process with DATABASE_URL on the primary and DATABASE_REPLICA_URL on
the standby — as a deployment would — and reports which connection each query ran on. It runs
once for the module; each test below asserts one property of its report.

The Django side runs in another process because pytest's test database lives on the machine's
shared cluster, which a standby would have to copy whole. REPLICA_TEST_SETTINGS names another
settings module for that process (to see these tests fail without the router, for instance).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from units import dbrouters
from units.models import Unit

BASE = Path(settings.BASE_DIR)
SCRIPT = BASE / "scripts" / "replica.sh"
PROBE = Path(__file__).with_name("replica_probe.py")
PRIMARY_PORT = os.environ.get("TEST_REPLICA_PRIMARY_PORT", "5441")
REPLICA_PORT = os.environ.get("TEST_REPLICA_PORT", "5442")
DATABASE = "oc_replica_test"
ANALYTICS_URLS = ["analytics:dashboard", "metrics-list", "ranking-list", "bulletin-list"]

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="streaming replication needs PostgreSQL")


def test_without_a_replica_every_read_uses_the_primary(db):
    """pytest's own settings define no replica: the router changes nothing."""
    assert not dbrouters.replica_configured()
    with dbrouters.read_from_replica():
        assert dbrouters.reading_alias() == "default"
        assert Unit.objects.all().db == "default"


def _run(command: list[str], env: dict, what: str, timeout: int = 300) -> str:
    done = subprocess.run(command, env=env, cwd=BASE, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def report():
    """What replica_probe.py saw, running against the script's primary and standby."""
    if not os.environ.get("PG_BIN") and not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("the PostgreSQL server binaries (initdb, pg_basebackup) are not installed")
    env = {
        **os.environ,
        "PRIMARY_PORT": PRIMARY_PORT,
        "REPLICA_PORT": REPLICA_PORT,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PRIMARY_PORT}/{DATABASE}",
        "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/{DATABASE}",
        "DJANGO_SETTINGS_MODULE": os.environ.get("REPLICA_TEST_SETTINGS", "opinion_center.settings"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE), os.environ.get("PYTHONPATH")])),
    }
    _run(["bash", str(SCRIPT), "stop"], env, "replica.sh stop (a run that never stopped)")
    try:
        _run(["bash", str(SCRIPT), "start"], env, "replica.sh start")
        psql = ["psql", "-h", "127.0.0.1", "-p", PRIMARY_PORT, "-U", "postgres", "-d", "postgres"]
        _run([*psql, "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {DATABASE}"], env, "CREATE DATABASE")
        _run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], env, "migrate on the primary")
        out = _run([sys.executable, str(PROBE)], env, "replica_probe.py")
    finally:
        _run(["bash", str(SCRIPT), "stop"], env, "replica.sh stop")
    return json.loads(out.strip().splitlines()[-1])


def _seen(report: dict, name: str) -> dict:
    observed = report[name]
    assert "error" not in observed, observed["error"]
    return observed


def test_it_is_a_streaming_standby(report):
    standby = _seen(report, "standby")
    assert standby == {"configured": True, "in_recovery": True, "port": REPLICA_PORT, "primary_port": PRIMARY_PORT}


@pytest.mark.parametrize("url_name", ANALYTICS_URLS)
def test_it_reads_analytics_from_the_replica(report, url_name):
    seen = _seen(report, f"analytics:{url_name}")
    assert seen["status"] == 200
    assert seen["replica_data_reads"] > 0, "no query went to the replica"
    assert seen["primary_data_reads"] == []  # the primary only answered who the user is
    assert seen["primary_reads_session"]


def test_it_writes_to_the_primary_and_then_reads_there(report):
    seen = _seen(report, "write_then_read")
    assert seen["city_found"]
    assert seen["replica_reads_before_write"] == 1
    assert seen["replica_reads_after_all"] == 1  # nothing after the write
    assert seen["notifications_read_back"] == 1  # read-your-writes
    assert seen["units_read_back"] > 1
    assert seen["primary_inserted_notification"]
    assert seen["primary_read_units"]


def test_a_raw_write_pins_the_block_to_the_primary(report):
    assert _seen(report, "raw_write") == {"alias_before": dbrouters.REPLICA, "alias_after": "default"}


def test_a_browser_that_just_posted_reads_from_the_primary(report):
    seen = _seen(report, "post_pins")
    assert seen["cookie_set"]
    assert seen["cookie_max_age"] == seen["pin_seconds"]
    assert seen["next_status"] == 200
    assert seen["next_replica_queries"] == 0


def test_pages_that_are_not_analytics_never_touch_the_replica(report):
    assert _seen(report, "not_analytics") == {"status": 200, "replica_queries": 0}


def test_an_unreachable_replica_falls_back_to_the_primary(report):
    seen = _seen(report, "unreachable")
    assert seen["statuses"] == [200, 200]
    assert seen["primary_data_reads"] > 0
    assert len(seen["warnings"]) == 1  # not retried on every read for REPLICA_RETRY_SECONDS
    assert "Read replica unavailable" in seen["warnings"][0]


def test_a_replica_that_stops_falls_back_to_the_primary(report):
    seen = _seen(report, "stopped")
    assert seen["status_before"] == 200
    assert seen["replica_queries_before"] > 0  # it was in use, its connection kept (CONN_MAX_AGE)
    assert seen["status_after"] == 200
    assert seen["primary_data_reads"] > 0
    assert len(seen["warnings"]) == 1
    assert "Read replica unavailable" in seen["warnings"][0]
