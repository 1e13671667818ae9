"""``{{ row|label:"status" }}``: what ``row.get_status_display`` shows, without rebuilding the
field's choices for every cell (see ``units.choice_labels``). For the rows of lists."""

from __future__ import annotations

from django import template

from ..choice_labels import choice_label

register = template.Library()


@register.filter
def label(obj, field_name: str):
    if obj is None or obj == "":
        return ""
    return choice_label(obj, field_name)
