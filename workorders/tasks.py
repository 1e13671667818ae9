"""Celery tasks of the work-order app: thin wrappers that call one service each."""

from __future__ import annotations

from celery import shared_task

from . import services
from .workdays import seed_known_years


@shared_task(ignore_result=True)
def urge_due_orders_task() -> int:
    """Periodic: remind units at 50 %/80 % of the time and at the deadline (claims rows, never twice)."""
    return services.urge_unsigned_orders() + services.urge_due_orders()


@shared_task(ignore_result=True)
def apply_supervision_rules_task() -> int:
    """Periodic: list repeated, long-unresolved and group appeals for supervision."""
    return services.apply_supervision_rules()


@shared_task(ignore_result=True)
def sweep_close_notices_task() -> int:
    """Periodic: queue close SMS / 12345 results still missing on closed orders."""
    return services.sweep_close_notices()


@shared_task(ignore_result=True)
def check_calendar_task() -> int | None:
    """Daily: seed any year the installed chinese-calendar knows, then warn if next year is missing."""
    from django.utils import timezone

    this_year = timezone.localdate().year
    seed_known_years(first=this_year, last=this_year + 1)
    services.recompute_provisional_deadlines()
    return services.warn_missing_calendar()
