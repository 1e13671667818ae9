"""Fixtures of the fault scenarios (``make chaos``, see docs/reliability.md).

One template database is migrated and given the demo city once per session; each scenario gets a
fresh copy of it (CREATE DATABASE … TEMPLATE), its own Redis on the port ``chaos/run.sh`` chose,
and its own processes. This test process talks to the scenario's database through the ORM to set
up and to check; the work itself is done by the real processes."""

from __future__ import annotations

import os
import signal

import pytest

from .harness import Stack, create_database, database_exists, drop_database, manage

TEMPLATE = "oc_chaos_tpl"
LOAD_DEMO = """
from importlib import import_module
from django.db import transaction
for app in ("units", "intake", "feeds", "workorders", "surveys"):
    with transaction.atomic():
        import_module(app + ".demo").load()
"""


def pytest_configure(config):
    """A SIGTERM (``timeout``, CI cancelling) unwinds like Ctrl-C, so that every ``finally`` that
    kills our process groups runs."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def base_url() -> str:
    return os.environ["DATABASE_URL"]


def redis_port() -> int:
    return int(os.environ["CHAOS_REDIS_PORT"])


@pytest.fixture(scope="session")
def template_db() -> str:
    """Migrated, with the demo city (units, users, categories, risk words, feed keys, templates).

    CHAOS_KEEP=1 keeps it (and the scenario databases) afterwards; CHAOS_REUSE_TEMPLATE=1 takes
    the kept one instead of building it again (only while no migration was added since)."""
    if os.environ.get("CHAOS_REUSE_TEMPLATE") and database_exists(base_url(), TEMPLATE):
        yield TEMPLATE
        return
    url = create_database(base_url(), TEMPLATE)
    # The set-up talks to no broker or cache of ours: whatever it would enqueue is discarded.
    env = {"DATABASE_URL": url, "REDIS_URL": "", "CELERY_BROKER_URL": "memory://"}
    manage("migrate", "--no-input", "-v0", env=env)
    # The demo modules of the apps the scenarios use (load_demo's order), not the analytics one:
    # its bulletins and rankings take time and nothing here reads them.
    manage("shell", "-c", LOAD_DEMO, env=env)
    yield TEMPLATE
    if not os.environ.get("CHAOS_KEEP"):
        drop_database(base_url(), TEMPLATE)


@pytest.fixture
def scenario(request, template_db, django_db_blocker):
    """(stack, database URL) of one scenario; the ORM of this process points at its database."""
    from django.db import connections

    short = request.node.name.removeprefix("test_")[:40]
    name = f"oc_chaos_{short}"
    url = create_database(base_url(), name, template=template_db)
    connections.close_all()
    connections["default"].settings_dict["NAME"] = name
    stack = Stack(short, env={"DATABASE_URL": url, "REDIS_URL": f"redis://127.0.0.1:{redis_port()}/0"})
    try:
        with django_db_blocker.unblock():
            yield stack, url
    finally:
        stack.stop_all()
        connections.close_all()
        if not os.environ.get("CHAOS_KEEP"):
            drop_database(base_url(), name)
