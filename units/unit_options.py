"""Unit filters of staff lists that stay small whatever the tree holds.

A province has ~9,000 units. A ``<select>`` listing all of them cost every list page with a unit
filter about half a second of rendering and 600 KB (measured at 1M appeals: the workspace, the
callback desk and the service records spent far more on that one field than on their queries).
The options are therefore the top levels of the user's tree that fit within ``UNIT_OPTIONS_CAP``,
plus, once a unit is chosen, the way down to it and its children: choosing a city lists its
districts, choosing a district its stations (a drill-down that works without script). What the
filter accepts is unchanged: any unit of the field's queryset, e.g. typed into the URL.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Length, Replace

from .models import Unit

UNIT_OPTIONS_CAP = 200
# Indent per level below the top listed level, so the drill-down reads as a tree.
INDENT = "\u3000"


def _with_depth(units: QuerySet[Unit]) -> QuerySet[Unit]:
    # "/1/4/17/" holds four slashes: depth 3.
    slashes = Length("path") - Length(Replace("path", Value("/"), Value("")))
    return units.annotate(depth=slashes - Value(1, output_field=IntegerField()))


def unit_options(units: QuerySet[Unit], *, selected: Unit | None = None, cap: int | None = None) -> list:
    """(pk, label) of the units to offer among ``units``: whole top levels while they fit within
    ``cap`` (the first level always, cut at ``cap``), the selected unit's ancestors and children."""
    cap = cap or UNIT_OPTIONS_CAP
    units = _with_depth(units.order_by())
    levels = list(units.values("depth").annotate(n=Count("pk")).order_by("depth").values_list("depth", "n"))
    if not levels:
        return []
    top, deepest, total = levels[0][0], levels[0][0], 0
    for depth, n in levels:
        if total + n > cap and depth != top:
            break
        deepest, total = depth, total + n
    condition = Q(depth__lte=deepest)
    if selected is not None:
        ancestors = [int(p) for p in selected.path.strip("/").split("/") if p]
        condition |= Q(pk__in=ancestors) | Q(parent_id=selected.pk)
    rows = units.filter(condition).order_by("path").values_list("pk", "name", "depth", "path")
    # Bounded even in a flat tree: the top levels (cap), the way down (a few) and the children (cap).
    return [(pk, INDENT * max(depth - top, 0) + name) for pk, name, depth, _path in rows[: 2 * cap + 32]]


def bound_unit_field(form, name: str, *, units: QuerySet[Unit] | None = None) -> None:
    """Replace the options of ``form``'s unit field ``name`` with ``unit_options`` (of ``units``,
    by default the field's own queryset); the selected unit (a valid one) drives the drill-down."""
    field = form.fields.get(name)
    if field is None or not hasattr(field, "queryset"):
        return
    units = field.queryset if units is None else units
    selected = None
    raw = form[name].value() if form.is_bound else None
    if raw not in (None, "", []):
        try:
            selected = field.queryset.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            selected = None
    choices = [("", field.empty_label)] if field.empty_label is not None else []
    field.widget.choices = choices + unit_options(units, selected=selected)
