"""``{{ text|link_numbers }}``: order numbers in free text (a timeline note, a notification) become
links to their orders, so a number is never a dead end."""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from workorders.models import WorkOrder

register = template.Library()

ORDER_NUMBER = re.compile(r"GD\d{13}")


@register.filter
def link_numbers(text) -> SafeString:
    text = "" if text is None else str(text)
    numbers = set(ORDER_NUMBER.findall(text))
    if not numbers:
        return escape(text)
    pks = dict(WorkOrder.objects.filter(number__in=numbers).values_list("number", "pk"))
    pieces = ORDER_NUMBER.split(text)  # text, number, text, number, … text
    found = ORDER_NUMBER.findall(text)
    html = [escape(pieces[0])]
    for number, after in zip(found, pieces[1:], strict=True):
        pk = pks.get(number)
        html.append(
            format_html('<a href="{}">{}</a>', reverse("workorders:detail", args=[pk]), number)
            if pk
            else escape(number)
        )
        html.append(escape(after))
    return mark_safe("".join(str(piece) for piece in html))  # every piece is escaped above
