"""Reads of the analytics app: dashboard figures, series for charts, bulletin content."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from units.models import Unit
from units.visibility import unit_scope

from .choices import METRIC_LABELS
from .hotspots import find_hotspots
from .metrics import UnitMetrics, basic_weight, leaf_counts, roll_up
from .periods import Period


@dataclass
class Scope:
    """What a user looks at: ``root`` None means the whole city (only city-wide roles)."""

    root: Unit | None
    rows: list[Unit]
    parent_ids: frozenset[int] = frozenset()


def dashboard_scope(user, unit_id: int | None = None) -> Scope:
    """The unit whose figures the user asked for (404 when he may not see it) and the rows under it."""
    scope = unit_scope(user)
    if scope is False:
        raise Http404
    root: Unit | None
    if unit_id:
        root = Unit.objects.visible_to(user).filter(pk=unit_id).first()
        if root is None:
            raise Http404
    else:
        root = scope  # None for city-wide roles, else the user's own unit
    if root is None:
        rows = list(Unit.objects.filter(parent__parent__isnull=True, parent__isnull=False, is_active=True))
    else:
        rows = list(root.children.filter(is_active=True)) or [root]
    rows.sort(key=lambda u: (u.tier, u.sort_order, u.code))
    parents = Unit.objects.filter(parent__in=rows, is_active=True).values_list("parent_id", flat=True)
    return Scope(root, rows, frozenset(parents))


def channel_counts(period: Period, *, within: Unit | None = None) -> list[dict]:
    from intake.choices import Channel
    from intake.models import Appeal

    qs = Appeal.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    if within is not None:
        qs = qs.filter(unit__path__startswith=within.path)
    counts = dict(qs.values_list("channel").annotate(n=Count("id")).order_by())
    return [{"code": c.value, "label": str(c.label), "n": counts.get(c.value, 0)} for c in Channel]


def severity_counts(period: Period, *, within: Unit | None = None) -> list[dict]:
    from intake.choices import Severity
    from intake.models import Appeal

    qs = Appeal.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    if within is not None:
        qs = qs.filter(unit__path__startswith=within.path)
    counts = dict(qs.values_list("severity").annotate(n=Count("id")).order_by())
    return [{"code": s.value, "label": str(s.label), "colour": s.colour, "n": counts.get(s.value, 0)} for s in Severity]


def category_counts(period: Period, *, within: Unit | None = None, limit: int = 10) -> list[dict]:
    from intake.models import Appeal

    qs = Appeal.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    if within is not None:
        qs = qs.filter(unit__path__startswith=within.path)
    rows = qs.values("category__name").annotate(n=Count("id")).order_by("-n", "category__name")[:limit]
    return [{"label": r["category__name"] or gettext("未分类"), "n": r["n"]} for r in rows]


def daily_series(period: Period, *, within: Unit | None = None) -> list[dict]:
    """Per local day: appeals by channel, appeals in all, and the day's satisfaction rate."""
    from intake.models import Appeal
    from surveys.choices import Verdict
    from surveys.models import Rating

    tz = timezone.get_default_timezone()
    appeals = Appeal.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    ratings = Rating.objects.filter(rated_at__gte=period.start, rated_at__lt=period.end)
    if within is not None:
        appeals = appeals.filter(unit__path__startswith=within.path)
        ratings = ratings.filter(unit__path__startswith=within.path)
    by_day: dict[dt.date, dict] = {d: {"channels": {}, "appeals": 0} for d in period.days}
    for row in (
        appeals.annotate(d=TruncDate("received_at", tzinfo=tz))
        .values("d", "channel")
        .annotate(n=Count("id"))
        .order_by()
    ):
        slot = by_day.get(row["d"])
        if slot is not None:
            slot["channels"][row["channel"]] = row["n"]
            slot["appeals"] += row["n"]
    w = basic_weight()
    for row in (
        ratings.annotate(d=TruncDate("rated_at", tzinfo=tz))
        .values("d")
        .annotate(
            s=Count("id", filter=Q(verdict=Verdict.SATISFIED)),
            b=Count("id", filter=Q(verdict=Verdict.BASIC)),
            x=Count("id", filter=Q(verdict=Verdict.DISSATISFIED)),
        )
        .order_by()
    ):
        slot = by_day.get(row["d"])
        if slot is not None:
            den = row["s"] + row["b"] + row["x"]
            slot["ratings"] = den
            slot["satisfaction"] = (row["s"] + w * row["b"]) / den if den else None
    return [
        {
            "date": d.isoformat(),
            "appeals": v["appeals"],
            "channels": v["channels"],
            "ratings": v.get("ratings", 0),
            "satisfaction": v.get("satisfaction"),
        }
        for d, v in sorted(by_day.items())
    ]


def unit_rows(
    period: Period, units: list[Unit], *, within: Unit | None = None, leaves: dict | None = None
) -> list[tuple[Unit, UnitMetrics]]:
    metrics = roll_up(leaf_counts(period, within=within) if leaves is None else leaves, units)
    return [(u, metrics[u.pk]) for u in units]


def figures(period: Period, scope: Scope) -> tuple[UnitMetrics, list[tuple[Unit, UnitMetrics]]]:
    """The scope's totals and its rows, from one read of each source table."""
    leaves = leaf_counts(period, within=scope.root)
    totals = UnitMetrics(scope.root.pk if scope.root else None, Counter(), basic_weight())
    for counter in leaves.values():
        totals.counts.update(counter)
    return totals, unit_rows(period, scope.rows, leaves=leaves)


def metric_row_dict(unit: Unit, m: UnitMetrics) -> dict:
    return {"unit_id": unit.pk, "code": unit.code, "name": unit.name, "tier": unit.tier, **m.as_dict()}


def dashboard(user, period: Period, *, unit_id: int | None = None) -> dict:
    """Everything the dashboard shows for this user, period and (optional) drill-down unit."""
    scope = dashboard_scope(user, unit_id)
    within = scope.root
    totals, rows = figures(period, scope)
    return {
        "scope": scope,
        "totals": totals,
        "rows": rows,
        "charts": {
            "channels": channel_counts(period, within=within),
            "severities": severity_counts(period, within=within),
            "daily": daily_series(period, within=within),
            "units": [
                {"name": u.short_name or u.name, "satisfaction": m.satisfaction.rate, "appeals": m.appeals}
                for u, m in rows
            ],
            "labels": {k: str(v) for k, v in METRIC_LABELS.items()},
        },
        "hotspots": find_hotspots(period, within=within, limit=8),
    }


def _sum(leaves: dict) -> UnitMetrics:
    total = UnitMetrics(None, Counter(), basic_weight())
    for counter in leaves.values():
        total.counts.update(counter)
    return total


def bulletin_content(period: Period, *, previous: Period | None = None) -> dict:
    """The figures a bulletin keeps: city totals (and the previous period's, for comparison),
    channels, severities, categories, days, bureaus and departments, the stations below the city's
    satisfaction rate, hotspots. Each source table is read once per period."""
    from units.choices import Tier

    leaves = leaf_counts(period)
    totals = _sum(leaves)
    units = list(
        Unit.objects.filter(tier__in=[Tier.DISTRICT, Tier.DEPARTMENT], is_active=True).order_by("tier", "sort_order")
    )
    rows = unit_rows(period, units, leaves=leaves)
    stations = list(Unit.objects.filter(tier=Tier.STATION, is_active=True))
    city_rate = totals.satisfaction.rate
    # Stations below the city's satisfaction rate, worst first (none when the city has no ratings).
    station_rows = [
        (u, m)
        for u, m in unit_rows(period, stations, leaves=leaves)
        if m.ratings and city_rate is not None and m.satisfaction.rate < city_rate
    ]
    station_rows.sort(key=lambda um: (um[1].satisfaction.rate, -um[1].ratings))
    return {
        "period": {"first": period.first.isoformat(), "until": period.until.isoformat(), "label": period.label()},
        "basic_weight": basic_weight(),
        "totals": totals.as_dict(),
        "previous": (
            {
                "first": previous.first.isoformat(),
                "until": previous.until.isoformat(),
                "totals": _sum(leaf_counts(previous)).as_dict(),
            }
            if previous
            else None
        ),
        "channels": channel_counts(period),
        "severities": severity_counts(period),
        "categories": category_counts(period),
        "daily": daily_series(period),
        "units": [metric_row_dict(u, m) for u, m in rows],
        "lowest_stations": [metric_row_dict(u, m) for u, m in station_rows[:5]],
        "hotspots": [h.as_dict() for h in find_hotspots(period, limit=10)],
    }


def bulletin_charts(bulletin) -> dict:
    """The chart data of a kept bulletin (what ``static/js/analytics.js`` draws)."""
    c = bulletin.content
    return {
        "channels": c.get("channels", []),
        "severities": c.get("severities", []),
        "daily": c.get("daily", []),
        "units": [
            {"name": u["name"], "satisfaction": (u.get("satisfaction") or {}).get("rate"), "appeals": u["appeals"]}
            for u in c.get("units", [])
        ],
        "labels": {k: str(v) for k, v in METRIC_LABELS.items()},
    }
