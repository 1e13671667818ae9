"""Reads of the analytics app: dashboard figures, series for charts, bulletin content.

Every figure comes from the stored daily subtree rows (``analytics.aggregates``), never from the
source tables: a year of a bureau is at most 366 rows. Hotspots still read the period's appeals
(capped by ``ANALYTICS_HOTSPOT_MAX_APPEALS``); the dashboard reads them kept for a few minutes
(``hotspots.recent_hotspots``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext

from units.models import Unit
from units.visibility import unit_scope

from . import aggregates
from .choices import METRIC_LABELS
from .hotspots import find_hotspots, recent_hotspots
from .metrics import UnitMetrics, basic_weight
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


def _scope_days(period: Period, within: Unit | None, days: list[dict] | None) -> list[dict]:
    return aggregates.stored_days(period, within.pk if within else None) if days is None else days


def _sum_map(days: list[dict], key: str) -> Counter:
    total: Counter = Counter()
    for row in days:
        total.update(row[key])
    return total


def channel_counts(period: Period, *, within: Unit | None = None, days: list[dict] | None = None) -> list[dict]:
    from intake.choices import Channel

    counts = _sum_map(_scope_days(period, within, days), "channels")
    return [{"code": c.value, "label": str(c.label), "n": counts.get(c.value, 0)} for c in Channel]


def severity_counts(period: Period, *, within: Unit | None = None, days: list[dict] | None = None) -> list[dict]:
    from intake.choices import Severity

    counts = _sum_map(_scope_days(period, within, days), "severities")
    return [{"code": s.value, "label": str(s.label), "colour": s.colour, "n": counts.get(s.value, 0)} for s in Severity]


def category_counts(
    period: Period, *, within: Unit | None = None, limit: int = 10, days: list[dict] | None = None
) -> list[dict]:
    from intake.models import Category

    by_id = _sum_map(_scope_days(period, within, days), "categories")
    names = dict(Category.objects.filter(pk__in=[int(k) for k in by_id if k]).values_list("pk", "name"))
    by_name: Counter = Counter()
    for key, n in by_id.items():
        by_name[names.get(int(key), "") if key else ""] += n
    rows = sorted(by_name.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"label": name or gettext("未分类"), "n": n} for name, n in rows if n]


def daily_series(period: Period, *, within: Unit | None = None, days: list[dict] | None = None) -> list[dict]:
    """Per local day: appeals by channel, appeals in all, and the day's satisfaction rate."""
    stored = {row["day"]: row for row in _scope_days(period, within, days)}
    w = basic_weight()
    out = []
    for d in period.days:
        row = stored.get(d)
        if row is None:
            out.append({"date": d.isoformat(), "appeals": 0, "channels": {}, "ratings": 0, "satisfaction": None})
            continue
        den = row["satisfied"] + row["basic"] + row["dissatisfied"]
        out.append(
            {
                "date": d.isoformat(),
                "appeals": row["appeals"],
                "channels": {k: v for k, v in row["channels"].items() if v},
                "ratings": den,
                "satisfaction": (row["satisfied"] + w * row["basic"]) / den if den else None,
            }
        )
    return out


def unit_rows(period: Period, units: list[Unit], *, metrics: dict | None = None) -> list[tuple[Unit, UnitMetrics]]:
    metrics = aggregates.stored_metrics(period, [u.pk for u in units]) if metrics is None else metrics
    return [(u, metrics[u.pk]) for u in units]


def figures(period: Period, scope: Scope) -> tuple[UnitMetrics, list[tuple[Unit, UnitMetrics]]]:
    """The scope's totals and its rows: one grouped read of the stored subtree rows."""
    aggregates.fresh_enough(period)
    root = scope.root.pk if scope.root else None
    metrics = aggregates.stored_metrics(period, [root, *(u.pk for u in scope.rows)])
    return metrics[root], unit_rows(period, scope.rows, metrics=metrics)


def metric_row_dict(unit: Unit, m: UnitMetrics) -> dict:
    return {"unit_id": unit.pk, "code": unit.code, "name": unit.name, "tier": unit.tier, **m.as_dict()}


def dashboard(user, period: Period, *, unit_id: int | None = None) -> dict:
    """Everything the dashboard shows for this user, period and (optional) drill-down unit."""
    scope = dashboard_scope(user, unit_id)
    within = scope.root
    totals, rows = figures(period, scope)
    days = aggregates.stored_days(period, within.pk if within else None)
    return {
        "scope": scope,
        "totals": totals,
        "rows": rows,
        "charts": {
            "channels": channel_counts(period, days=days),
            "severities": severity_counts(period, days=days),
            "daily": daily_series(period, days=days),
            "units": [
                {"name": u.short_name or u.name, "satisfaction": m.satisfaction.rate, "appeals": m.appeals}
                for u, m in rows
            ],
            "labels": {k: str(v) for k, v in METRIC_LABELS.items()},
        },
        "hotspots": recent_hotspots(period, within=within, limit=8),
    }


def _previous_totals(previous: Period) -> UnitMetrics:
    aggregates.refresh_for(previous)
    return aggregates.stored_metrics(previous, [None])[None]


def bulletin_content(period: Period, *, previous: Period | None = None) -> dict:
    """The figures a bulletin keeps: city totals (and the previous period's, for comparison),
    channels, severities, categories, days, bureaus and departments, the stations below the city's
    satisfaction rate, hotspots. Read from the stored daily rows once the period's marked buckets
    (and the previous period's) are folded in, so a kept bulletin is exact."""
    from units.choices import Tier

    aggregates.refresh_for(period)
    units = list(
        Unit.objects.filter(tier__in=[Tier.DISTRICT, Tier.DEPARTMENT], is_active=True).order_by("tier", "sort_order")
    )
    stations = list(Unit.objects.filter(tier=Tier.STATION, is_active=True))
    metrics = aggregates.stored_metrics(period, [None, *(u.pk for u in units), *(u.pk for u in stations)])
    totals = metrics[None]
    rows = unit_rows(period, units, metrics=metrics)
    city_rate = totals.satisfaction.rate
    # Stations below the city's satisfaction rate, worst first (none when the city has no ratings).
    station_rows = [
        (u, m)
        for u, m in unit_rows(period, stations, metrics=metrics)
        if m.ratings and city_rate is not None and m.satisfaction.rate < city_rate
    ]
    station_rows.sort(key=lambda um: (um[1].satisfaction.rate, -um[1].ratings))
    days = aggregates.stored_days(period, None)
    return {
        "period": {"first": period.first.isoformat(), "until": period.until.isoformat(), "label": period.label()},
        "basic_weight": basic_weight(),
        "totals": totals.as_dict(),
        "previous": (
            {
                "first": previous.first.isoformat(),
                "until": previous.until.isoformat(),
                "totals": _previous_totals(previous).as_dict(),
            }
            if previous
            else None
        ),
        "channels": channel_counts(period, days=days),
        "severities": severity_counts(period, days=days),
        "categories": category_counts(period, days=days),
        "daily": daily_series(period, days=days),
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
