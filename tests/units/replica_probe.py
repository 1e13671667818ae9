"""The Django side of tests/units/test_replica.py, run as its own process.

It runs against the primary and the streaming standby that ``scripts/replica.sh start`` makes
(DATABASE_URL on the primary, DATABASE_REPLICA_URL on the standby, the database migrated), not
against pytest's test database: a standby can only follow a whole cluster, and the test database
lives on the machine's shared one. It seeds the demo city, waits until the standby has replayed
it, makes the requests and reads the test needs, watches which connection each query runs on, and
prints what it saw as one JSON object on its last line of output. The assertions are the tests'.

Each observation is taken on its own: one that raises is reported as ``{"error": ...}`` and the
others are still taken. The last one stops the standby (``replica.sh stop-standby``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import django

ANALYTICS_URLS = ["analytics:dashboard", "metrics-list", "ranking-list", "bulletin-list"]
# Tables that say who the user is: always read from the primary (REPLICA_PRIMARY_MODELS).
IDENTITY_TABLES = ("django_session", "units_user", "units_apitoken", "auth_", "authtoken_", "units_login")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "replica.sh"


def data_reads(queries) -> list[str]:
    """The SELECTs of a capture that read anything but the user's identity."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        and not any(f'"{t}' in q["sql"] for t in IDENTITY_TABLES)
    ]


def sql_of(queries) -> str:
    return " ".join(q["sql"] for q in queries)


class Warnings(logging.Handler):
    """The warnings units.dbrouters logs while it is attached."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    def __enter__(self):
        logger = logging.getLogger("units.dbrouters")
        self._old_level = logger.level
        logger.setLevel(logging.WARNING)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        logger = logging.getLogger("units.dbrouters")
        logger.removeHandler(self)
        logger.setLevel(self._old_level)


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.contrib.auth import hashers
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from intake.models import Appeal
    from intake.phones import phone_hash
    from units import dbrouters
    from units import demo as units_demo
    from units.models import Notification, Unit, User

    setup_test_environment()  # "testserver" allowed, mail kept in memory
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()

    units_demo.load()
    center = User.objects.get(username="center")
    station = User.objects.select_related("unit").get(username="handler").unit
    Appeal.objects.create(
        channel="hotline",
        unit=station,
        received_at=timezone.now(),
        content="噪音扰民",
        citizen_phone="+8613800000016",
        citizen_phone_hash=phone_hash("+8613800000016"),
    )

    def wait_for_standby() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            (target,) = cursor.fetchone()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with connections[dbrouters.REPLICA].cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the standby did not replay up to {target} within 20 s")

    def logged_in() -> Client:
        client = Client()
        client.force_login(center)
        return client

    def standby() -> dict:
        with connections[dbrouters.REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')")
            in_recovery, port = cursor.fetchone()
        return {
            "configured": dbrouters.replica_configured(),
            "in_recovery": in_recovery,
            "port": port,
            "primary_port": str(connections["default"].settings_dict["PORT"]),
        }

    def analytics(url_name: str) -> dict:
        client = logged_in()
        wait_for_standby()
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections[dbrouters.REPLICA]) as replica,
        ):
            response = client.get(reverse(url_name))
        return {
            "status": response.status_code,
            "replica_data_reads": len(data_reads(replica)),
            "primary_data_reads": data_reads(primary),
            "primary_reads_session": "django_session" in sql_of(primary),
        }

    def write_then_read() -> dict:
        wait_for_standby()
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections[dbrouters.REPLICA]) as replica,
        ):
            with dbrouters.read_from_replica():
                city_found = Unit.objects.filter(code="LJ000").exists()
                replica_reads_before_write = len(replica.captured_queries)
                Notification.objects.create(user=center, text="复制测试")
                notifications = Notification.objects.filter(user=center, text="复制测试").count()
                units = Unit.objects.count()
        return {
            "city_found": city_found,
            "replica_reads_before_write": replica_reads_before_write,
            "replica_reads_after_all": len(replica.captured_queries),
            "notifications_read_back": notifications,
            "units_read_back": units,
            "primary_inserted_notification": "INSERT INTO" in sql_of(primary)
            and "units_notification" in sql_of(primary),
            "primary_read_units": "units_unit" in sql_of(primary),
        }

    def raw_write() -> dict:
        wait_for_standby()
        with dbrouters.read_from_replica():
            before = dbrouters.reading_alias()
            with connections["default"].cursor() as cursor:
                cursor.execute("UPDATE units_user SET first_name = first_name WHERE id = %s", [center.pk])
            after = dbrouters.reading_alias()
        return {"alias_before": before, "alias_after": after}

    def post_pins() -> dict:
        client = logged_in()
        response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
        cookie = response.cookies.get(dbrouters.PIN_COOKIE)
        with CaptureQueriesContext(connections[dbrouters.REPLICA]) as replica:
            status = client.get(reverse("analytics:dashboard")).status_code
        return {
            "cookie_set": cookie is not None,
            "cookie_max_age": cookie["max-age"] if cookie is not None else None,
            "pin_seconds": settings.REPLICA_PIN_SECONDS,
            "next_status": status,
            "next_replica_queries": len(replica.captured_queries),
        }

    def not_analytics() -> dict:
        client = logged_in()
        with CaptureQueriesContext(connections[dbrouters.REPLICA]) as replica:
            status = client.get(reverse("home")).status_code
        return {"status": status, "replica_queries": len(replica.captured_queries)}

    def use_port(port: int | str) -> None:
        """Point the ``replica`` database at ``port`` (a new connection at the next use)."""
        connections[dbrouters.REPLICA].close()
        connections.settings[dbrouters.REPLICA]["PORT"] = str(port)
        del connections[dbrouters.REPLICA]
        dbrouters.forget_replica_failure()

    def unreachable() -> dict:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        real_port = connections.settings[dbrouters.REPLICA]["PORT"]
        use_port(closed_port)
        try:
            client = logged_in()
            with Warnings() as warnings, CaptureQueriesContext(connections["default"]) as primary:
                statuses = [
                    client.get(reverse("analytics:dashboard")).status_code,
                    client.get(reverse("metrics-list")).status_code,
                ]
        finally:
            use_port(real_port)
        return {"statuses": statuses, "primary_data_reads": len(data_reads(primary)), "warnings": warnings.messages}

    def stopped() -> dict:
        dbrouters.forget_replica_failure()
        client = logged_in()
        wait_for_standby()
        with CaptureQueriesContext(connections[dbrouters.REPLICA]) as replica:
            status_before = client.get(reverse("analytics:dashboard")).status_code
        replica_queries_before = len(replica.captured_queries)
        done = subprocess.run(["bash", str(SCRIPT), "stop-standby"], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"replica.sh stop-standby failed: {done.stdout}{done.stderr}")
        with Warnings() as warnings, CaptureQueriesContext(connections["default"]) as primary:
            status_after = client.get(reverse("analytics:dashboard")).status_code
        return {
            "status_before": status_before,
            "replica_queries_before": replica_queries_before,
            "status_after": status_after,
            "primary_data_reads": len(data_reads(primary)),
            "warnings": warnings.messages,
        }

    steps: list[tuple[str, Callable[[], dict]]] = [
        ("standby", standby),
        *((f"analytics:{name}", lambda name=name: analytics(name)) for name in ANALYTICS_URLS),
        ("write_then_read", write_then_read),
        ("raw_write", raw_write),
        ("post_pins", post_pins),
        ("not_analytics", not_analytics),
        ("unreachable", unreachable),
        ("stopped", stopped),  # last: the standby is gone afterwards
    ]
    report: dict[str, dict] = {"settings": {"DATABASE_ROUTERS": list(settings.DATABASE_ROUTERS)}}
    for name, observe in steps:
        dbrouters.forget_replica_failure()
        try:
            report[name] = observe()
        except Exception:  # noqa: BLE001 - reported to the test that asserts this observation
            report[name] = {"error": traceback.format_exc()}
    sys.stdout.write("\n" + json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
    main()
