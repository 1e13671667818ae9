"""Celery tasks of the early-warning app: thin wrappers that call one service each."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def run_detectors_task() -> dict[str, int]:
    """Periodic: run the detectors over their sliding windows (a rerun adds nothing twice)."""
    return services.run_detectors()
