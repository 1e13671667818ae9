"""Celery tasks of the routing app: thin wrappers that call one service each."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True, soft_time_limit=3600, time_limit=3900)
def train_model_task() -> int:
    """Nightly: train on closed orders, evaluate on the last month, keep the model if not worse."""
    return services.train_model().version


@shared_task(ignore_result=True)
def auto_dispatch_task() -> int:
    """Every few minutes: dispatch confident proposals in categories where an administrator turned it on."""
    return services.auto_dispatch_pending()


@shared_task(ignore_result=True)
def recount_handbacks_task() -> int:
    """Nightly: recount the hand-back figures of this month and the last (rows written in bulk)."""
    from django.utils import timezone

    today = timezone.localdate()
    last_month = (today.replace(day=1) - timezone.timedelta(days=1)).replace(day=1)
    return services.rebuild_handback_months(since=last_month)
