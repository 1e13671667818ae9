"""Celery tasks of the surveys app (the SMS tasks are in ``sms.tasks``): thin, take ids, call one function, own only the retry."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def run_evaluation_task(service_date: str | None = None) -> dict:
    """Daily: build the evaluation SMS for the records of the day ``delay`` days back."""
    import datetime as dt

    from .services.records import run_evaluation

    run = run_evaluation(service_date=dt.date.fromisoformat(service_date) if service_date else None, actor=None)
    return {"run": run.pk, "queued": run.queued, "skipped": run.skipped}


@shared_task(ignore_result=True)
def warn_overdue_callbacks_task() -> int:
    """Every few minutes: tell center staff about callbacks past their due time (once each)."""
    from .services.callbacks import warn_overdue_callbacks

    return warn_overdue_callbacks()


@shared_task(ignore_result=True)
def rectify_bad_reviews_task() -> int:
    """Every few minutes: open the rectification order of any bad QR review that has none yet."""
    from .services.qr_ratings import rectify_pending_bad_reviews

    return rectify_pending_bad_reviews()
