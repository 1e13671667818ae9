"""Helpers shared by tests of several apps."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection, models


def stored_column(row: models.Model, column: str):
    """``column`` of ``row`` as the database holds it, read past the model (an encrypted phone's
    ciphertext, not the number the model gives back)."""
    table, name = connection.ops.quote_name(row._meta.db_table), connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {name} FROM {table} WHERE id = %s", [row.pk])
        return cursor.fetchone()[0]


def race(fn: Callable[[], object], *, times: int = 2) -> tuple[list[object], list[BaseException]]:
    """Run ``fn`` in ``times`` threads released together; return their results and errors.

    Each thread has its own database connection (closed at the end), so the calls really compete
    for row locks and unique constraints, as two requests or two workers would.
    """
    barrier = threading.Barrier(times)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test to assert on
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
