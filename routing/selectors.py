"""Reads of the routing app: the training history, the acceptance rate and the hand-back rate."""

from __future__ import annotations

from datetime import date

from django.db.models import Count
from django.utils import timezone

from .models import DispatchChoice, Followed, HandbackMonth, TrainedModel, TrainingStatus


def training_runs(*, limit: int = 60):
    return TrainedModel.objects.defer("artefact").order_by("-version")[:limit]


def went_live_at():
    """When the first model went live (the line between "before" and "after")."""
    first = (
        TrainedModel.objects.filter(activated_at__isnull=False)
        .order_by("activated_at")
        .values_list("activated_at", flat=True)
        .first()
    )
    return first


def acceptance(*, days: int = 90) -> dict:
    """How dispatches of the last ``days`` days related to the proposals (manual ones only for the
    rate: an automatic dispatch follows the model by construction)."""
    since = timezone.now() - timezone.timedelta(days=days)
    rows = DispatchChoice.objects.filter(created_at__gte=since)
    by = dict(rows.filter(automatic=False).values_list("followed").annotate(n=Count("pk")).order_by())
    total = sum(by.values())
    with_model = rows.filter(automatic=False, model_unit__isnull=False).count()
    followed_model = by.get(Followed.MODEL, 0) + by.get(Followed.BOTH, 0)
    return {
        "days": days,
        "total": total,
        "counts": [(f, by.get(f.value, 0)) for f in Followed],
        "with_model": with_model,
        "model_rate": (followed_model / with_model) if with_model else None,
        "rule_rate": ((by.get(Followed.RULE, 0) + by.get(Followed.BOTH, 0)) / total) if total else None,
        "automatic": rows.filter(automatic=True).count(),
    }


def handback_rates(*, months: int = 12, live=...) -> list[dict]:
    """退单率 per month of dispatch: orders handed back at least once / orders dispatched, each
    month marked before or after the first model went live. Reads the kept monthly rows
    (``HandbackMonth``, at most ``months`` rows), never the work orders."""
    today = timezone.localdate()
    first = date(today.year, today.month, 1)
    y, m = first.year, first.month - (months - 1)
    while m <= 0:
        y, m = y - 1, m + 12
    start = date(y, m, 1)
    if live is ...:
        live = went_live_at()
    live_month = timezone.localtime(live).date().replace(day=1) if live else None
    found = []
    for row in HandbackMonth.objects.filter(month__gte=start, dispatched__gt=0).order_by("month"):
        found.append(
            {
                "month": row.month,
                "total": row.dispatched,
                "handed_back": row.handed_back,
                "rate": row.handed_back / row.dispatched,
                "phase": None if live_month is None else ("after" if row.month >= live_month else "before"),
            }
        )
    return found


def handback_before_after(*, months: int = 12) -> dict:
    """The dashboard's figure: the monthly rates and the rate over the months before and after the
    first model went live (None for a side without months)."""
    live = went_live_at()
    rows = handback_rates(months=months, live=live)

    def rate(phase: str) -> float | None:
        chosen = [r for r in rows if r["phase"] == phase]
        total = sum(r["total"] for r in chosen)
        return sum(r["handed_back"] for r in chosen) / total if total else None

    before, after = rate("before"), rate("after")
    return {
        "rows": rows,
        "live_at": live,
        "before": before,
        "after": after,
        "before_pct": None if before is None else f"{before * 100:.1f}%",
        "after_pct": None if after is None else f"{after * 100:.1f}%",
    }


def active_model():
    return TrainedModel.objects.defer("artefact").filter(status=TrainingStatus.ACTIVE).first()
