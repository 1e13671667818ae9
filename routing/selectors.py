"""Reads of the routing app: the training history, the acceptance rate and the hand-back rate."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from workorders.choices import Action
from workorders.models import WorkOrder, WorkOrderEvent

from .models import DispatchChoice, Followed, TrainedModel, TrainingStatus


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


def handback_rates(*, months: int = 12) -> list[dict]:
    """退单率 per month of dispatch: orders handed back at least once / orders dispatched, each
    month marked before or after the first model went live."""
    today = timezone.localdate()
    first = date(today.year, today.month, 1)
    y, m = first.year, first.month - (months - 1)
    while m <= 0:
        y, m = y - 1, m + 12
    start = date(y, m, 1)
    handed = WorkOrderEvent.objects.filter(order=OuterRef("pk"), action=Action.HAND_BACK)
    rows = (
        WorkOrder.objects.filter(dispatched_at__date__gte=start)
        .annotate(month=TruncMonth("dispatched_at"), handed=Exists(handed))
        .values("month")
        .annotate(total=Count("pk"), handed_back=Count("pk", filter=Q(handed=True)))
        .order_by("month")
    )
    live = went_live_at()
    live_month = timezone.localtime(live).date().replace(day=1) if live else None
    found = []
    for r in rows:
        month = r["month"].date() if hasattr(r["month"], "date") else r["month"]
        found.append(
            {
                "month": month,
                "total": r["total"],
                "handed_back": r["handed_back"],
                "rate": r["handed_back"] / r["total"] if r["total"] else None,
                "phase": None if live_month is None else ("after" if month >= live_month else "before"),
            }
        )
    return found


def active_model():
    return TrainedModel.objects.defer("artefact").filter(status=TrainingStatus.ACTIVE).first()
