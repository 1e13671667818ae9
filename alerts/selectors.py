"""Reads of the early-warning app: the list a user may see, one alert's page, the home panel."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, QuerySet
from django.utils import timezone

from units.models import User

from .choices import OPEN_STATES, AlertState, Detector
from .models import Alert, AlertEvidence

PAGE_SIZE = 50


def alert_list(*, user: User) -> QuerySet[Alert]:
    """The alerts the user may see, newest first (``alerts.filters.AlertFilter`` narrows them)."""
    return Alert.objects.visible_to(user).select_related("unit", "category").order_by("-raised_at", "-id")


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


# --- The dashboard panel and the bulletin section ---------------------------------------------

PERIOD_ROWS = 50  # a bulletin lists at most this many alerts (a handful a day is usual)


def _raised_in(qs, period):
    return qs.filter(raised_at__gte=period.start, raised_at__lt=period.end)


def _callers_masked(alerts: list[Alert]) -> dict[int, str]:
    """The masked phone of each caller alert (from its first evidence appeal with a phone)."""
    ids = [a.pk for a in alerts if a.detector == Detector.CALLER]
    found: dict[int, str] = {}
    if not ids:
        return found
    rows = (
        AlertEvidence.objects.filter(alert_id__in=ids)
        .exclude(appeal__citizen_phone_hash="")
        .select_related("appeal")
        .only("alert_id", "appeal__citizen_phone")
        .order_by("alert_id", "appeal_id")
    )
    for row in rows:
        if row.alert_id not in found:
            found[row.alert_id] = row.appeal.masked_phone
    return found


def period_alerts(*, period, user: User | None = None) -> dict:
    """The alerts raised in the period (visible to ``user``; all when None): counts per detector and
    per state, and the rows (newest first, at most PERIOD_ROWS) with place or masked caller, the
    counts against the baseline and the state."""
    qs = Alert.objects.all() if user is None else Alert.objects.visible_to(user)
    qs = _raised_in(qs, period)
    alerts = list(qs.select_related("unit", "category").order_by("-raised_at", "-id")[:PERIOD_ROWS])
    callers = _callers_masked(alerts)
    by_detector: Counter = Counter()
    by_state: Counter = Counter()
    for detector, state, n in qs.order_by().values_list("detector", "state").annotate(n=Count("pk")):
        by_detector[detector] += n
        by_state[state] += n
    rows = [
        {
            "id": a.pk,
            "detector": a.detector,
            "detector_display": str(Detector(a.detector).label),
            "title": a.title,
            "where": a.place or callers.get(a.pk, ""),
            "category": a.category.name if a.category_id else "",
            "unit": a.unit.name if a.unit_id else "",
            "observed": a.observed,
            "expected": a.expected,
            "threshold": a.threshold,
            "state": a.state,
            "state_display": str(AlertState(a.state).label),
            "is_listed": a.is_listed,
            "raised_at": timezone.localtime(a.raised_at).strftime("%Y-%m-%d %H:%M"),
        }
        for a in alerts
    ]
    total = sum(by_state.values())
    return {
        "total": total,
        "shown": len(rows),
        "open": sum(by_state.get(s.value, 0) for s in OPEN_STATES),
        "by_detector": [{"detector": d.value, "label": str(d.label), "n": by_detector[d.value]} for d in Detector],
        "rows": rows,
    }


def bulletin_section(period) -> dict:
    """What a generated bulletin keeps about the period's alerts (all units: bulletins are the
    bureau's circulars), as plain JSON."""
    return period_alerts(period=period)


def dashboard_panel(request, period) -> dict:
    """The dashboard's alert panel: the period's alerts the user may see."""
    return period_alerts(period=period, user=request.user)
