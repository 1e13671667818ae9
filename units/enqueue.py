"""The one way to hand a task to the broker after the database has the row it names.

The row in PostgreSQL is the record of the intent (an import batch, a result delivery, an SMS, a
PDF to render …); the broker only makes it happen sooner. So:

* the task is sent once the transaction commits (never for a row that was rolled back), and
* a broker that is down (Redis away, a connection refused) fails neither the caller's request nor
  the transaction: the failure is logged as a warning naming the task, and the app's periodic
  sweeper sends the row again (every queued kind of row has one).

Outside a transaction (autocommit) the task is sent at once, with the same fallback.

A wake-up that only needs to happen once whatever the transaction did (a sender loop to start
after a batch of thousands of queued rows) is asked for with ``once=True`` or
``call_once_after_commit``: the second ask in the same transaction finds the first one pending and
adds nothing. A savepoint rolled back takes its pending call with it, so the next ask adds it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from django.db import transaction

logger = logging.getLogger(__name__)


def send_task(task, *args, countdown: int | None = None) -> bool:
    """Send ``task`` now; ``False`` (and a warning) when the broker cannot take it."""
    options = {"countdown": countdown} if countdown else {}
    try:
        task.apply_async(args, **options)
    except Exception:  # noqa: BLE001 - whatever the broker raises, the row is still there
        logger.warning(
            "broker unavailable: %s%r left for its sweeper", getattr(task, "name", task), args, exc_info=True
        )
        return False
    return True


def send_task_after_commit(task, *args, countdown: int | None = None, once: bool = False) -> None:
    """Send ``task`` with ``args`` (ids, never personal data) once the current transaction commits;
    with ``once``, the same task with the same arguments is sent once per transaction."""
    if once:
        _once_after_commit(
            (getattr(task, "name", task), args, countdown), lambda: send_task(task, *args, countdown=countdown)
        )
    else:
        transaction.on_commit(lambda: send_task(task, *args, countdown=countdown))


def call_once_after_commit(func: Callable[[], object]) -> None:
    """Call ``func`` once the current transaction commits, once however many times the transaction
    asks for it. ``func`` reaches the broker (and may read rows first); whatever it raises is logged
    as a warning, never raised into the commit: the sweeper does the work later."""
    _once_after_commit(func, func)


class _Pending:
    """An after-commit call that knows what it was asked for (``key``), so a second ask finds it."""

    __slots__ = ("key", "func")

    def __init__(self, key: Hashable, func: Callable[[], object]) -> None:
        self.key, self.func = key, func

    def __call__(self) -> None:
        try:
            self.func()
        except Exception:  # noqa: BLE001 - the rows are committed; the sweeper sends them later
            logger.warning("after commit: %s failed; left for its sweeper", _name(self.key), exc_info=True)


def _name(key: Hashable) -> str:
    func = key[0] if isinstance(key, tuple) else key
    return getattr(func, "__qualname__", None) or str(func)


def _once_after_commit(key: Hashable, func: Callable[[], object]) -> None:
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        isinstance(pending, _Pending) and pending.key == key for _sids, pending, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_Pending(key, func))
