"""The one way to hand a task to the broker after the database has the row it names.

The row in PostgreSQL is the record of the intent (an import batch, a result delivery, an SMS, a
PDF to render …); the broker only makes it happen sooner. So:

* the task is sent once the transaction commits (never for a row that was rolled back), and
* a broker that is down (Redis away, a connection refused) fails neither the caller's request nor
  the transaction: the failure is logged as a warning naming the task, and the app's periodic
  sweeper sends the row again (every queued kind of row has one).

Outside a transaction (autocommit) the task is sent at once, with the same fallback.
"""

from __future__ import annotations

import logging

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


def send_task_after_commit(task, *args, countdown: int | None = None) -> None:
    """Send ``task`` with ``args`` (ids, never personal data) once the current transaction commits."""
    transaction.on_commit(lambda: send_task(task, *args, countdown=countdown))
