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


@shared_task(acks_late=True)
def refresh_aggregates_task() -> int:
    """Recompute the marked (day, unit) buckets (every minute; a lost run is caught up by the next),
    then the city's hotspots of today, this week and this month when they are due."""
    from .aggregates import refresh_marked
    from .hotspots import warm_hotspots

    done = refresh_marked()
    warm_hotspots()
    return done


@shared_task(acks_late=True)
def nightly_aggregates_task() -> int:
    """Recompute the last days in full, whatever was marked (late reports, a mark lost with a crash)."""
    return services.recompute_recent_aggregates()
