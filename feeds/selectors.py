"""Reads of the feeds app."""

from __future__ import annotations

from django.db.models import QuerySet

from intake.models import Appeal
from units.choices import Role

from .models import FeedSource, ImportBatch, ImportRowError, ResultDelivery

FEED_STAFF_ROLES = (Role.CENTER_STAFF, Role.ADMIN)


def _may_see_feeds(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*FEED_STAFF_ROLES)


def import_batches(user) -> QuerySet[ImportBatch]:
    """Batches for center staff and administrators (imports are a city-level desk)."""
    qs = ImportBatch.objects.select_related("source", "uploaded_by")
    return qs if _may_see_feeds(user) else qs.none()


def batch_errors(batch: ImportBatch) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(batch=batch).order_by("row_number", "id")


def result_deliveries(user) -> QuerySet[ResultDelivery]:
    qs = ResultDelivery.objects.select_related("source", "appeal")
    return qs if _may_see_feeds(user) else qs.none()


def deliveries_of_appeal(appeal: Appeal) -> QuerySet[ResultDelivery]:
    return ResultDelivery.objects.filter(appeal=appeal).select_related("source").prefetch_related("attempt_rows")


def appeal_sources() -> QuerySet[FeedSource]:
    return FeedSource.objects.filter(kind="appeals", is_active=True).exclude(channel="")


def delivery_counts() -> dict[str, int]:
    from django.db.models import Count

    return dict(ResultDelivery.objects.values_list("status").annotate(n=Count("id")).order_by())
