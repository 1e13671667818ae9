"""Reads of the early-warning app: the list a user may see, one alert's page, the home panel."""

from __future__ import annotations

from django.db.models import QuerySet

from units.models import User

from .choices import OPEN_STATES, AlertState
from .models import Alert, AlertEvidence

PAGE_SIZE = 50


def alert_list(*, user: User, state: str = "", detector: str = "", unit_id: int | None = None) -> QuerySet[Alert]:
    """The alerts the user may see, newest first, filtered by state, detector and unit."""
    qs = Alert.objects.visible_to(user).select_related("unit", "category")
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    if detector:
        qs = qs.filter(detector=detector)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    return qs.order_by("-raised_at", "-id")


def evidence_of(alert: Alert) -> list:
    """The appeals behind the alert, oldest first, with what their rows show."""
    rows = (
        AlertEvidence.objects.filter(alert=alert)
        .select_related("appeal", "appeal__category", "appeal__unit")
        .order_by("appeal__received_at", "appeal_id")
    )
    return [row.appeal for row in rows]


def open_orders_of(alert: Alert) -> list:
    """The work orders of the evidence (so the page links to each and to the supervision list)."""
    from workorders.models import WorkOrder

    return list(
        WorkOrder.objects.filter(appeal_id__in=AlertEvidence.objects.filter(alert=alert).values("appeal_id"))
        .select_related("unit")
        .order_by("pk")
    )


def home_panel(request) -> dict:
    """The home-page panel: open alerts the user may see (a bounded count and the latest five)."""
    qs = Alert.objects.visible_to(request.user).filter(state__in=OPEN_STATES)
    return {
        "new": qs.filter(state=AlertState.NEW).order_by().values("pk")[:100].count(),
        "latest": list(qs.select_related("unit").order_by("-raised_at", "-id")[:5]),
    }
