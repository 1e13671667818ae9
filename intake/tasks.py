"""Celery tasks of the intake app: thin; the database rows are the truth."""

from __future__ import annotations

from celery import shared_task


@shared_task
def sweep_risk_alerts_task() -> int:
    from .services import sweep_risk_alerts

    return sweep_risk_alerts()
