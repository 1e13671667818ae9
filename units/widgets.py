"""Select widgets of list filters, written out in Python.

Django's select widget renders one template per option (``select_option.html``, about a third of
a millisecond each) and the select's own template around them: a filter form of three selects
cost a work list some 10 ms, a province's unit list seconds. These give the same HTML (the
attributes Django would write, the options escaped, the chosen one ``selected``) from a string
join; what the widget accepts (``value_from_datadict``) is Django's own.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import EmptyResultSet
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .forms import YesNoAllSelect
from .memo import ProcessCache
from .models import Unit


def _options(pairs, chosen: set[str]) -> str:
    parts = []
    for value, label in pairs:
        if isinstance(label, (list, tuple)):  # an option group: (group label, [(value, label), …])
            parts.append(f'<optgroup label="{escape(value)}">{_options(label, chosen)}</optgroup>')
            continue
        value = "" if value is None else str(value)
        parts.append(
            f'<option value="{escape(value)}"{" selected" if value in chosen else ""}>{escape(label)}</option>'
        )
    return "".join(parts)


# The rendered options of model selects (the unit select: a province's 1,111 cities and bureaus,
# a fifth of the desk page's CPU for center staff), by the SQL that lists them: emptied when a unit
# is saved or deleted in this process, after ``units.memo.MAX_AGE_SECONDS`` in the others.
MODEL_OPTIONS_KEPT = 64
model_options: ProcessCache[dict] = ProcessCache("model-select-options", dict).watch(Unit)


class QuickSelect(forms.Select):
    """Django's single select. With ``label_field`` set, a model field's options are read as (pk,
    that column) pairs, no instance per option (for units, whose label is their name)."""

    label_field = ""

    def _pairs(self):
        choices = self.choices
        if self.label_field and isinstance(choices, ModelChoiceIterator):
            empty = choices.field.empty_label
            yield from ([("", empty)] if empty is not None else [])
            yield from choices.queryset.values_list("pk", self.label_field).iterator(chunk_size=5000)
            return
        yield from choices

    def _chosen(self, value) -> set[str]:
        return {str(v) for v in self.format_value(value)}

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final.pop("name", None)
        # The name first, then the attributes, as Django's template writes them.
        options = self._options_html(self._chosen(value))
        return mark_safe(f'<select name="{escape(name)}"{flatatt(final)}>{options}</select>')

    def _options_html(self, chosen: set[str]) -> str:
        """The options, those of a model's rows (``label_field``) kept per process by the statement
        that lists them and the language, the chosen ones marked afterwards."""
        choices = self.choices
        if not (self.label_field and isinstance(choices, ModelChoiceIterator)):
            return _options(self._pairs(), chosen)
        try:
            listed = str(choices.queryset.query)
        except EmptyResultSet:
            return _options(self._pairs(), chosen)
        key = (listed, self.label_field, str(choices.field.empty_label), get_language())
        kept = model_options.get()
        html = kept.get(key)
        if html is None:
            html = _options(self._pairs(), set())
            if len(kept) >= MODEL_OPTIONS_KEPT:
                kept.clear()
            kept[key] = html
        for value in chosen:
            plain = f'<option value="{escape(value)}">'
            html = html.replace(plain, plain[:-1] + " selected>", 1)
        return html


class QuickNullBooleanSelect(forms.NullBooleanSelect, QuickSelect):
    """Django's 未知 / 是 / 否 select of a yes-no filter."""

    def _chosen(self, value) -> set[str]:
        return {str(self.format_value(value))}


class QuickYesNoAllSelect(YesNoAllSelect, QuickSelect):
    """The 全部 / 是 / 否 select of the filters' yes-no fields (``units.forms.YesNoAllSelect``)."""

    def _chosen(self, value) -> set[str]:
        return {str(self.format_value(value))}


_QUICK = {
    forms.Select: QuickSelect,
    forms.NullBooleanSelect: QuickNullBooleanSelect,
    YesNoAllSelect: QuickYesNoAllSelect,
}


def quicken(form) -> None:
    """Swap ``form``'s stock single selects for the quick ones, options and attributes kept."""
    for field in form.fields.values():
        quick = _QUICK.get(type(field.widget))
        if quick is None:
            continue
        stock = field.widget
        widget = quick(attrs=stock.attrs)
        widget.choices = stock.choices
        widget.is_required = stock.is_required
        widget.is_localized = stock.is_localized
        field.widget = widget


class QuickFilterSet(django_filters.FilterSet):
    """A FilterSet whose form renders its selects with ``QuickSelect`` (what it accepts is the same)."""

    @property
    def form(self):
        if not hasattr(self, "_form"):
            quicken(super().form)
        return self._form
