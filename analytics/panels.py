"""Contexts of the analytics home panels (cheap: this month's figures and the latest list)."""

from __future__ import annotations

from django.utils import timezone

from .choices import RankingStatus
from .metrics import total_metrics
from .models import Bulletin, Ranking
from .periods import to_date


def supervisor_panel(request) -> dict:
    period = to_date(timezone.localdate())["month"]
    latest = Ranking.objects.filter(status=RankingStatus.PUBLISHED).order_by("-month").values_list("month", flat=True)
    month = latest.first()
    lists = []
    if month:
        for ranking in Ranking.objects.filter(month=month, status=RankingStatus.PUBLISHED).prefetch_related(
            "entries__unit"
        ):
            entries = list(ranking.entries.all())
            lists.append(
                {
                    "ranking": ranking,
                    "red": [e for e in entries if e.flag == "red"],
                    "black": [e for e in entries if e.flag == "black"],
                }
            )
    return {
        "period": period,
        "totals": total_metrics(period),
        "lists": lists,
        "bulletin": Bulletin.objects.order_by("-generated_at").first(),
    }


def leader_panel(request) -> dict:
    unit = request.user.unit
    period = to_date(timezone.localdate())["month"]
    return {"period": period, "unit": unit, "totals": total_metrics(period, within=unit) if unit else None}
