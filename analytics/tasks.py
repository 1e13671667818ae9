"""Celery tasks of the analytics app: thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def generate_due_bulletins_task() -> list[int]:
    """Make the bulletins and draft rankings that are due and missing (each exactly once)."""
    return [b.pk for b in services.generate_due_bulletins()]


@shared_task(acks_late=True)
def render_bulletin_pdf_task(bulletin_id: int) -> bool:
    """Print one bulletin's PDF (at most once; the hourly job re-drives a lost one)."""
    from .models import Bulletin

    bulletin = Bulletin.objects.filter(pk=bulletin_id).first()
    return bool(bulletin) and services.render_bulletin_pdf(bulletin)
