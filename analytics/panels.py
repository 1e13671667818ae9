"""Contexts of the analytics home panels (cheap: this month's figures and the latest list)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from .aggregates import fresh_enough, stored_metrics
from .choices import ListFlag, RankingStatus
from .models import Bulletin, Ranking, RankingEntry
from .periods import to_date


def supervisor_panel(request) -> dict:
    period = to_date(timezone.localdate())["month"]
    latest = Ranking.objects.filter(status=RankingStatus.PUBLISHED).order_by("-month").values_list("month", flat=True)
    month = latest.first()
    lists = []
    if month:
        # The flagged entries only: a tier of a province ranks thousands of units.
        flagged = Prefetch(
            "entries",
            queryset=RankingEntry.objects.exclude(flag=ListFlag.NONE).select_related("unit").order_by("rank"),
            to_attr="listed",
        )
        for ranking in Ranking.objects.filter(month=month, status=RankingStatus.PUBLISHED).prefetch_related(flagged):
            lists.append(
                {
                    "ranking": ranking,
                    "red": [e for e in ranking.listed if e.flag == ListFlag.RED],
                    "black": [e for e in ranking.listed if e.flag == ListFlag.BLACK],
                }
            )
    return {
        "period": period,
        "totals": _totals(period, None),
        "lists": lists,
        "bulletin": Bulletin.objects.order_by("-generated_at").first(),
    }


def leader_panel(request) -> dict:
    unit = request.user.unit
    period = to_date(timezone.localdate())["month"]
    return {"period": period, "unit": unit, "totals": _totals(period, unit.pk) if unit else None}


def _totals(period, node: int | None):
    fresh_enough(period)
    return stored_metrics(period, [node])[node]
