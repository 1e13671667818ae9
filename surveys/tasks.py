"""Celery tasks of the surveys app: thin, take ids, call one function, own only the retry."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def run_sms_sender_task(backend_name: str = "") -> dict:
    """Run one provider's sender loop: due rows at the bucket's pace, for up to
    SMS_SENDER_LOOP_SECONDS (a loop already running for that sender makes this a no-op)."""
    from .outbox import run_sender

    return run_sender(backend_name=backend_name)


@shared_task(ignore_result=True)
def send_sms_task(sms_id: int) -> str:
    """Send one outbox row if it is still queued and due (a duplicate message does nothing).
    Kept for messages published before the sender loop; a paced row is left to the loop."""
    from .outbox import send_one, start_senders

    outcome, _wait = send_one(sms_id)
    if outcome == "paced":
        start_senders()
    return outcome


@shared_task(ignore_result=True)
def sweep_sms_task() -> dict:
    """Every minute: re-drive due queued SMS, requeue rows stuck in sending, and ask the provider
    about ambiguous sends whose next check is due (backing off; parked ones are left alone)."""
    from .outbox import sweep
    from .services import process_pending_inbound

    counts = sweep()
    counts["inbound"] = process_pending_inbound()
    return counts


@shared_task(ignore_result=True)
def run_evaluation_task(service_date: str | None = None) -> dict:
    """Daily: build the evaluation SMS for the records of the day ``delay`` days back."""
    import datetime as dt

    from .services import run_evaluation

    run = run_evaluation(service_date=dt.date.fromisoformat(service_date) if service_date else None, actor=None)
    return {"run": run.pk, "queued": run.queued, "skipped": run.skipped}


@shared_task(ignore_result=True)
def warn_overdue_callbacks_task() -> int:
    """Every few minutes: tell center staff about callbacks past their due time (once each)."""
    from .services import warn_overdue_callbacks

    return warn_overdue_callbacks()


@shared_task(ignore_result=True)
def rectify_bad_reviews_task() -> int:
    """Every few minutes: open the rectification order of any bad QR review that has none yet."""
    from .services import rectify_pending_bad_reviews

    return rectify_pending_bad_reviews()
