"""Template filters of the analytics pages: rates as percentages, figures out of stored JSON."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(rate) -> str:
    """0.9234 → "92.3%"; nothing to measure → "—"."""
    if rate is None or rate == "":
        return "—"
    return f"{float(rate) * 100:.1f}%"


@register.filter
def metric(obj, key: str):
    """The Ratio ``key`` of a UnitMetrics, or the stored {num, den, rate} of a JSON figure set."""
    if isinstance(obj, dict):
        return obj.get(key) or {}
    return getattr(obj, key)


@register.filter
def rate_of(obj, key: str):
    value = metric(obj, key)
    return value.get("rate") if isinstance(value, dict) else value.rate


@register.filter
def frac(value) -> str:
    """ "num/den" of a Ratio or a stored figure."""
    if isinstance(value, dict):
        num, den = value.get("num"), value.get("den")
    else:
        num, den = value.num, value.den
    if num is None:
        return ""
    num_text = f"{num:g}" if isinstance(num, float) else str(num)
    return f"{num_text}/{den}"


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
