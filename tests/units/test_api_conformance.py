"""The API does what its OpenAPI schema says: schemathesis drives every operation with every check.

The schema is loaded from the application itself (``/api/schema/`` through WSGI), requests go
through the same WSGI application, on the real PostgreSQL test database filled with the demo
city. Each operation gets positive and negative examples (bounded, derandomized) as center staff;
the operations a station handler uses are run again with his token. Every check of schemathesis
runs on every response (``--checks all``): status codes and content types documented, bodies
matching their schema, valid requests accepted, invalid ones refused, authentication enforced.

Nothing is excluded. A failure names the operation and prints the schemathesis report, with a
``curl`` line that reproduces it.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks

from opinion_center.wsgi import application

EXAMPLES_PER_MODE = 4
# The suite runs one fixed draw; API_CONFORMANCE_SEED=<n> draws other examples (to look further).
SEED = os.environ.get("API_CONFORMANCE_SEED")
TOKEN_PATH = "/api/v1/auth/token/"
DEMO_LOGIN = {"username": "center", "password": "demo12345"}
# Receipt times are refused before 2000 and in the future, which JSON Schema cannot say of a
# date-time: draw them (and every other date-time) from that window.
schemathesis.openapi.format(
    "date-time",
    st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2026, 1, 1), timezones=st.just(dt.UTC)).map(
        lambda value: value.isoformat()
    ),
)
# A bulletin is made for a period that has ended (a later one is refused with 400): dates too
# are drawn from the past.
schemathesis.openapi.format("date", st.dates(min_value=dt.date(2000, 1, 2), max_value=dt.date(2025, 12, 31)).map(str))
METRICS_PATH = "/api/v1/metrics/"
METRICS_PERIOD = {"period": "custom", "start": "2025-01-01", "end": "2025-03-31"}
FEED_KEYS = {"/api/v1/feeds/{source}/appeals/": "demo-12345-key", "/api/v1/feeds/service-records/": "demo-records-key"}
# Operations that revoke the token they are called with: they get a token of their own, so that
# the operations after them are still sent by a signed-in user (not answered 401 throughout).
REVOKING = {("DELETE", TOKEN_PATH), ("POST", "/api/v1/auth/token/revoke/")}
# Paths a station handler works with: his appeals, units and work orders.
HANDLER_PREFIXES = ("/api/v1/work-orders/", "/api/v1/appeals/", "/api/v1/units/", "/api/v1/me/")


@pytest.fixture
def wsgi_in_test_transaction():
    """Let WSGI requests share the test's connection and transaction (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _token(client, username: str) -> str:
    response = client.post("/api/v1/auth/token/", json={"username": username, "password": "demo12345"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


def _first_ids(client, schema, headers: dict) -> dict[str, object]:
    """For each collection, the id of a real item, so that detail operations reach real objects."""
    ids = {}
    for path in schema.raw_schema["paths"]:
        if path.endswith("/{id}/") and path.count("{") == 1:
            collection = path[: -len("{id}/")]
            if collection in ids:
                continue
            response = client.get(collection, headers=headers)
            if response.status_code == 200:
                body = response.get_json()
                rows = body.get("results", []) if isinstance(body, dict) else body
                if rows:
                    ids[collection] = rows[0]["id"]
    return ids


def _uploads_files(operation) -> bool:
    body = operation.definition.raw.get("requestBody", {}).get("content", {})
    return "multipart/form-data" in body


def _run_operation(operation, headers: dict, real_id, checks, failures: list[str]) -> None:
    strategies = []
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
        if mode.is_positive and _uploads_files(operation):
            # Schemathesis names every uploaded file after its field, without an extension, and
            # the server decides a file's type by its extension: no generated upload is valid.
            # These operations get negative examples only (docs/api.md).
            continue
        if mode.is_positive and operation.path == METRICS_PATH:
            # A custom period needs a start, an end not before it and at most a year between
            # them, which JSON Schema cannot say: the generator fills only the other parameters.
            strategies.append(operation.as_strategy(generation_mode=mode, query=METRICS_PERIOD))
            continue
        if mode.is_positive and operation.path == TOKEN_PATH and operation.method.upper() == "POST":
            # The only valid credentials are real ones; random ones are refused (400) by design.
            strategies.append(operation.as_strategy(generation_mode=mode, body=DEMO_LOGIN))
            continue
        strategies.append(operation.as_strategy(generation_mode=mode))
        if real_id is not None:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters={"id": real_id}))
        if "{source}" in operation.path:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters={"source": "12345"}))

    @settings(
        max_examples=EXAMPLES_PER_MODE * 2,
        derandomize=SEED is None,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    if SEED is not None:
        run = seed(int(SEED))(run)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation's report, then fail once
        failures.append(f"{operation.label}\n{exc}")


@pytest.mark.django_db
def test_every_operation_conforms_to_the_schema(wsgi_in_test_transaction, city):
    started = time.monotonic()
    cache.clear()  # rate-limit counters of earlier runs would refuse the demo's QR ratings
    call_command("load_demo", allow_production=True, verbosity=0)  # a throw-away test database
    from werkzeug.test import Client

    client = Client(wsgi_in_test_transaction)
    center_token, handler_token = _token(client, "center"), _token(client, "handler")
    center = {"Authorization": f"Token {center_token}"}
    handler = {"Authorization": f"Token {handler_token}"}

    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_in_test_transaction, headers=center)
    load_all_checks()
    checks = CHECKS.get_all()
    center_ids, handler_ids = _first_ids(client, schema, center), _first_ids(client, schema, handler)

    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 69
    for operation in operations:
        collection = operation.path.split("{")[0]
        if operation.path in FEED_KEYS:
            _run_operation(operation, {"Authorization": f"Bearer {FEED_KEYS[operation.path]}"}, None, checks, failures)
            continue
        if (operation.method.upper(), operation.path) in REVOKING:
            own = {"Authorization": f"Token {_token(client, 'center')}"}
            _run_operation(operation, own, None, checks, failures)
            continue
        _run_operation(operation, center, center_ids.get(collection), checks, failures)
        if operation.path.startswith(HANDLER_PREFIXES):
            _run_operation(operation, handler, handler_ids.get(collection), checks, failures)

    # Still signed in: no operation revoked the token the others were sent with.
    assert client.get("/api/v1/me/", headers=center).status_code == 200
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations in {elapsed:.0f}s")
    assert not failures, f"{len(failures)} operations do not conform:\n\n" + "\n\n".join(failures)
