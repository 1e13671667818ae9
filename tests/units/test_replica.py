"""Analytics and exports read from a real PostgreSQL streaming replica; writes stay on the primary.

scripts/replica.sh starts a hot standby of the test's own PostgreSQL cluster on another port (a
base backup with ``pg_basebackup -R``, then streaming). The tests add it as the ``replica``
database, as DATABASE_REPLICA_URL would, and watch which connection each query runs on. The data
is committed (transactional tests) so that it reaches the standby.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import Appeal
from intake.phones import phone_hash
from units import dbrouters
from units.models import Notification, Unit

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "replica.sh"
REPLICA_PORT = int(os.environ.get("TEST_REPLICA_PORT", "5442"))

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="streaming replication needs PostgreSQL")
# Committed data (it must reach the standby) and queries allowed on both databases.
on_both = pytest.mark.django_db(transaction=True, databases=["default", dbrouters.REPLICA])


def test_without_a_replica_every_read_uses_the_primary(db):
    """First in the module: the replica is configured only once the module's cluster is up."""
    assert not dbrouters.replica_configured()
    with dbrouters.read_from_replica():
        assert dbrouters.reading_alias() == "default"
        assert Unit.objects.all().db == "default"


def _script(env: dict, command: str) -> None:
    done = subprocess.run(["bash", str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"replica.sh {command} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def replica_cluster(django_db_setup, django_db_blocker):
    """A hot standby of the primary cluster (the test database included), configured as the
    ``replica`` database for this module, as DATABASE_REPLICA_URL would."""
    if shutil.which("pg_basebackup") is None:
        pytest.skip("pg_basebackup is not installed")
    primary = connections["default"].settings_dict
    env = {
        **os.environ,
        "PRIMARY_HOST": primary["HOST"] or "127.0.0.1",
        "PRIMARY_PORT": str(primary["PORT"] or 5432),
        "PRIMARY_USER": primary["USER"] or "postgres",
        "REPLICA_PORT": str(REPLICA_PORT),
    }
    _script(env, "start")
    replica = copy.deepcopy(primary)
    replica["PORT"] = str(REPLICA_PORT)
    # As settings mark it: the test database seen through the standby, never flushed by the tests.
    replica["TEST"] = {**replica["TEST"], "MIRROR": "default"}
    connections.settings[dbrouters.REPLICA] = replica
    yield env
    if hasattr(connections._connections, dbrouters.REPLICA):
        connections[dbrouters.REPLICA].close()
        del connections[dbrouters.REPLICA]
    del connections.settings[dbrouters.REPLICA]
    dbrouters.forget_replica_failure()
    _script(env, "stop")


def _use_port(port: int) -> None:
    """Point the ``replica`` database at ``port`` (a new connection at the next use)."""
    if hasattr(connections._connections, dbrouters.REPLICA):
        connections[dbrouters.REPLICA].close()
        del connections[dbrouters.REPLICA]
    connections.settings[dbrouters.REPLICA]["PORT"] = str(port)
    dbrouters.forget_replica_failure()


@pytest.fixture
def replica(replica_cluster):
    """The configured replica; ``replica.wait()`` until the standby has replayed every commit."""

    class Replica:
        env = replica_cluster

        @staticmethod
        def wait() -> None:
            _script(replica_cluster, "wait")

    dbrouters.forget_replica_failure()
    yield Replica
    dbrouters.forget_replica_failure()


@pytest.fixture
def center_with_data(center, station):
    Appeal.objects.create(
        channel="hotline",
        unit=station,
        received_at=timezone.now(),
        content="噪音扰民",
        citizen_phone="+8613800000016",
        citizen_phone_hash=phone_hash("+8613800000016"),
    )
    return center


def _tables(queries) -> str:
    return " ".join(q["sql"] for q in queries)


# Tables that say who the user is: always read from the primary (REPLICA_PRIMARY_MODELS).
IDENTITY_TABLES = ("django_session", "units_user", "units_apitoken", "auth_", "authtoken_", "units_login")


def _data_reads(queries) -> list[str]:
    """The SELECTs of a capture that read anything but the user's identity."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        and not any(f'"{t}' in q["sql"] for t in IDENTITY_TABLES)
    ]


@on_both
def test_it_is_a_streaming_standby(replica):
    with connections[dbrouters.REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')")
        assert cursor.fetchone() == (True, str(REPLICA_PORT))


@on_both
@pytest.mark.parametrize("url_name", ["analytics:dashboard", "metrics-list", "ranking-list", "bulletin-list"])
def test_it_reads_analytics_from_the_replica(client, center_with_data, replica, url_name):
    client.force_login(center_with_data)
    replica.wait()
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[dbrouters.REPLICA]) as standby,
    ):
        response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert _data_reads(standby), "no query went to the replica"
    assert _data_reads(primary) == []  # the primary only answered who the user is
    assert "django_session" in _tables(primary)


@on_both
def test_it_writes_to_the_primary_and_then_reads_there(center, replica):
    replica.wait()
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[dbrouters.REPLICA]) as standby,
    ):
        with dbrouters.read_from_replica():
            assert Unit.objects.filter(code="LJ000").exists()
            reads_before_write = len(standby.captured_queries)
            Notification.objects.create(user=center, text="复制测试")
            assert Notification.objects.filter(user=center).count() == 1  # read-your-writes
            assert Unit.objects.count() > 1
    assert reads_before_write == 1
    assert len(standby.captured_queries) == 1  # nothing after the write
    assert "INSERT INTO" in _tables(primary) and "units_notification" in _tables(primary)
    assert "units_unit" in _tables(primary)


@on_both
def test_a_raw_write_pins_the_block_to_the_primary(center, replica):
    replica.wait()
    with dbrouters.read_from_replica():
        assert dbrouters.reading_alias() == dbrouters.REPLICA
        with connections["default"].cursor() as cursor:
            cursor.execute("UPDATE units_user SET first_name = first_name WHERE id = %s", [center.pk])
        assert dbrouters.reading_alias() == dbrouters.DEFAULT_DB_ALIAS


@on_both
def test_a_browser_that_just_posted_reads_from_the_primary(client, center_with_data, replica):
    client.force_login(center_with_data)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert dbrouters.PIN_COOKIE in response.cookies
    assert response.cookies[dbrouters.PIN_COOKIE]["max-age"] == settings.REPLICA_PIN_SECONDS
    with CaptureQueriesContext(connections[dbrouters.REPLICA]) as standby:
        assert client.get(reverse("analytics:dashboard")).status_code == 200
    assert standby.captured_queries == []


@on_both
def test_pages_that_are_not_analytics_never_touch_the_replica(client, center_with_data, replica):
    client.force_login(center_with_data)
    with CaptureQueriesContext(connections[dbrouters.REPLICA]) as standby:
        assert client.get(reverse("home")).status_code == 200
    assert standby.captured_queries == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@on_both
def test_an_unreachable_replica_falls_back_to_the_primary(client, center_with_data, replica, caplog):
    _use_port(_closed_port())
    try:
        client.force_login(center_with_data)
        with caplog.at_level(logging.WARNING, logger="units.dbrouters"):
            with CaptureQueriesContext(connections["default"]) as primary:
                assert client.get(reverse("analytics:dashboard")).status_code == 200
                assert client.get(reverse("metrics-list")).status_code == 200
        assert _data_reads(primary)
        warnings = [r for r in caplog.records if r.name == "units.dbrouters"]
        assert len(warnings) == 1  # not retried on every read for REPLICA_RETRY_SECONDS
        assert "Read replica unavailable" in warnings[0].getMessage()
    finally:
        _use_port(REPLICA_PORT)


@on_both
def test_a_replica_that_stops_falls_back_to_the_primary(client, center_with_data, replica, caplog):
    """Last in the module: it stops the standby (the module's teardown is then a no-op)."""
    client.force_login(center_with_data)
    replica.wait()
    with CaptureQueriesContext(connections[dbrouters.REPLICA]) as standby:
        assert client.get(reverse("analytics:dashboard")).status_code == 200
    assert standby.captured_queries  # it was in use, its connection kept (CONN_MAX_AGE)
    _script(replica.env, "stop")
    with caplog.at_level(logging.WARNING, logger="units.dbrouters"):
        with CaptureQueriesContext(connections["default"]) as primary:
            response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200
    assert _data_reads(primary)
    assert any("Read replica unavailable" in r.getMessage() for r in caplog.records)
