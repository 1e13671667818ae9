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
    """What a user looks at: ``root`` None means everything (only city-wide roles): the city's
    bureaus and departments, or, when the system holds several cities (a province), the cities.
    ``rows`` are the units listed under the root (its direct children), each with drill-down when
    it has children of its own (``parent_ids``)."""

    root: Unit | None
    rows: list[Unit]
    parent_ids: frozenset[int] = frozenset()
    province: bool = False


# The unit table shows this many rows a page (a city of a province has a few dozen bureaus and
# departments; the province itself a hundred cities).
UNIT_PAGE_SIZE = 50


def _is_province() -> bool:
    return Unit.objects.filter(parent__isnull=True, is_active=True)[:2].count() > 1


def top_rows() -> tuple[list[Unit], bool]:
    """The units listed for "everything": the city's bureaus and departments, or the cities when
    the system holds several (a province). Returns them and whether it is a province."""
    tops = list(Unit.objects.filter(parent__isnull=True, is_active=True))
    if len(tops) > 1:
        return tops, True
    return list(Unit.objects.filter(parent__in=tops, is_active=True)), False


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
        rows, province = top_rows()
    else:
        rows, province = list(root.children.filter(is_active=True)) or [root], _is_province()
    rows.sort(key=lambda u: (u.tier, u.sort_order, u.code))
    parents = Unit.objects.filter(parent__in=rows, is_active=True).values_list("parent_id", flat=True).distinct()
    return Scope(root, rows, frozenset(parents), province)


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


def _sort_key(key: str):
    """Sort key of a (unit, metrics) row by a column of the unit table; empty rates sort last."""
    if key == "name":
        return lambda um: (0, um[0].code)
    if key in ("appeals", "ratings", "escalations"):
        return lambda um: (0, getattr(um[1], key))
    return lambda um: (0, um[1].metric(key).rate) if um[1].metric(key).rate is not None else (1, 0)


def sort_rows(rows: list[tuple[Unit, UnitMetrics]], sort: str = "", *, desc: bool = False) -> list:
    """The unit table's rows sorted by a column (``forms.UNIT_SORTS``; empty: the tree's order),
    ties by unit code; units with nothing to measure stay at the end either way."""
    if not sort:
        return rows
    key = _sort_key(sort)
    rows = sorted(rows, key=lambda um: um[0].code)
    measured = [um for um in rows if key(um)[0] == 0]
    empty = [um for um in rows if key(um)[0] == 1]
    return sorted(measured, key=lambda um: key(um)[1], reverse=desc) + empty


def dashboard(user, period: Period, *, unit_id: int | None = None, sort: str = "", desc: bool = False, page=1) -> dict:
    """Everything the dashboard shows for this user, period and (optional) drill-down unit: the
    unit table is the root's direct children, sorted as asked, one page of ``UNIT_PAGE_SIZE``."""
    from django.core.paginator import Paginator

    scope = dashboard_scope(user, unit_id)
    within = scope.root
    totals, rows = figures(period, scope)
    rows_page = Paginator(sort_rows(rows, sort, desc=desc), UNIT_PAGE_SIZE).get_page(page)
    days = aggregates.stored_days(period, within.pk if within else None)
    return {
        "scope": scope,
        "totals": totals,
        "rows": list(rows_page),
        "rows_page": rows_page,
        "charts": {
            "channels": channel_counts(period, days=days),
            "severities": severity_counts(period, days=days),
            "daily": daily_series(period, days=days),
            "units": [
                {"name": u.short_name or u.name, "satisfaction": m.satisfaction.rate, "appeals": m.appeals}
                for u, m in rows_page
            ],
            "labels": {k: str(v) for k, v in METRIC_LABELS.items()},
        },
        "hotspots": recent_hotspots(period, within=within, limit=8),
        "behind_since": aggregates.behind_since(),
    }


def _previous_totals(previous: Period) -> UnitMetrics:
    aggregates.refresh_for(previous)
    return aggregates.stored_metrics(previous, [None])[None]


def bulletin_content(period: Period, *, previous: Period | None = None) -> dict:
    """The figures a bulletin keeps: city totals (and the previous period's, for comparison),
    channels, severities, categories, days, the rows of the city-wide dashboard (bureaus and
    departments; in a province the cities), the five stations furthest below the total
    satisfaction rate, hotspots. Read from the stored daily rows once the period's marked buckets
    (and the previous period's) are folded in, so a kept bulletin is exact."""
    from units.choices import Tier

    aggregates.refresh_for(period)
    # The rows of the city-wide dashboard: the bureaus and departments, or a province's cities.
    units, _province = top_rows()
    units.sort(key=lambda u: (u.tier, u.sort_order, u.code))
    # A province has thousands of stations: their ids, and the units of the five kept only.
    station_ids = list(Unit.objects.filter(tier=Tier.STATION, is_active=True).values_list("pk", flat=True))
    metrics = aggregates.stored_metrics(period, [None, *(u.pk for u in units), *station_ids])
    totals = metrics[None]
    rows = unit_rows(period, units, metrics=metrics)
    city_rate = totals.satisfaction.rate
    # Stations below the city's satisfaction rate, worst first (none when the city has no ratings).
    below = []  # (rate, -ratings, pk), each station's satisfaction built once
    if city_rate is not None:
        for pk in station_ids:
            num, den = metrics[pk].satisfaction
            if den and num / den < city_rate:
                below.append((num / den, -den, pk))
    below.sort()
    lowest = [pk for _rate, _ratings, pk in below]
    kept = Unit.objects.in_bulk(lowest[:5])
    station_rows = [(kept[pk], metrics[pk]) for pk in lowest[:5]]
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
