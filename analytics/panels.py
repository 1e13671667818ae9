"""Contexts of the analytics home panels (cheap: this month's figures and the latest list)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, F, FloatField, Prefetch, Sum, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from .aggregates import behind_since, fresh_enough, stored_counts, stored_metrics
from .choices import ListFlag, RankingStatus
from .models import RATED, Bulletin, Ranking, RankingEntry, UnitDayFigures
from .periods import Period, to_date


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


def kept_rating_figures(user, *, first: dt.date, until: dt.date) -> dict[str, Any]:
    """The verdict counts and satisfaction rate of ``surveys.selectors.rating_figures`` over the
    local days [first, until), read from the kept day rows of the user's subtree (the minute job's
    figures, as on the dashboard), never from the period's ratings: a week of a province's ratings
    is some 20,000 rows a home page would read."""
    from surveys.selectors import with_rate
    from units.visibility import unit_scope

    scope = unit_scope(user)
    counts: dict[str, int] = {}
    if scope is not False:
        node = None if scope is None else scope.pk
        period = Period(first, until)
        fresh_enough(period)
        counts = stored_counts(period, [node])[node]
    verdicts = {key: counts.get(key, 0) for key in ("satisfied", "basic", "dissatisfied", "declined")}
    return with_rate({"total": sum(verdicts.values()), **verdicts})


def satisfaction_panel(request) -> dict[str, Any]:
    """Center staff's and supervisors' home: today's and the last 7 days' satisfaction, and the
    open callbacks."""
    from surveys.choices import CallbackStatus
    from surveys.models import Callback

    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    return {
        "today": kept_rating_figures(request.user, first=today, until=tomorrow),
        "week": kept_rating_figures(request.user, first=today - dt.timedelta(days=7), until=tomorrow),
        "open_callbacks": Callback.objects.visible_to(request.user).open().count(),
        "closed_status": CallbackStatus.CLOSED,
        "behind_since": behind_since(),
    }


VERDICTS = ("satisfied", "basic", "dissatisfied", "declined")


def kept_unit_rating_figures(user, *, first: dt.date, until: dt.date, limit: int = 30) -> list[dict[str, Any]]:
    """Per rated unit the user sees, over the local days [first, until): the verdict counts and
    satisfaction rate of its own ratings, worst rate first (then most ratings), ``limit`` of them.
    Summed from the kept per-unit day rows that hold a rating (``unit_day_figures_rated``, read
    index only): at most one row per unit and day, however many ratings a province gets in 30 days
    (some five million). PostgreSQL orders the units and returns the ``limit`` shown (a province
    rates 8,000 of them in a month); their names are read last."""
    from surveys.selectors import with_rate
    from units.models import Unit
    from units.visibility import unit_scope, visible_unit_ids

    scope = unit_scope(user)
    if scope is False:
        return []
    fresh_enough(Period(first, until))
    rows = UnitDayFigures.objects.filter(RATED, day__gte=first, day__lt=until, unit__isnull=False)
    if scope is not None:
        rows = rows.filter(unit_id__in=visible_unit_ids(user))
    sums = {v: Sum(v) for v in VERDICTS}
    with_verdict = F("satisfied") + F("basic") + F("dissatisfied")
    ordered = (
        rows.values("unit_id")
        .annotate(**sums)
        .annotate(
            total=with_verdict + F("declined"),
            # The satisfaction rate of ``with_rate`` (basic counts as satisfied), unrounded; none
            # without a verdict, listed last.
            exact_rate=Case(
                When(satisfied=0, basic=0, dissatisfied=0, then=Value(None)),
                default=Cast(F("satisfied") + F("basic"), FloatField()) / Cast(with_verdict, FloatField()),
                output_field=FloatField(),
            ),
        )
        .order_by(F("exact_rate").asc(nulls_last=True), "-total", "unit_id")[:limit]
    )
    found = [
        with_rate({"unit_id": r["unit_id"], "total": r["total"], **{v: r[v] or 0 for v in VERDICTS}}) for r in ordered
    ]
    names = dict(Unit.objects.filter(pk__in=[r["unit_id"] for r in found]).values_list("pk", "name"))
    return [{**r, "unit__name": names.get(r["unit_id"], "")} for r in found]


def survey_overview_panel(request) -> dict[str, Any]:
    """The rating figures of the evaluation overview (回访评价): today's and the last 30 days', and
    per rated unit over the last 30 days, from the kept day rows (the minute job's figures)."""
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    month_ago = today - dt.timedelta(days=30)
    return {
        "today": kept_rating_figures(request.user, first=today, until=tomorrow),
        "month": kept_rating_figures(request.user, first=month_ago, until=tomorrow),
        "units": kept_unit_rating_figures(request.user, first=month_ago, until=tomorrow),
        "behind_since": behind_since(),
    }
