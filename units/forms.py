"""What every staff form and filter shares: select boxes that say what their empty choice means.

Django's defaults show "---------" for "no choice" and "未知" (unknown) for the empty choice of a
yes/no filter; an office worker reads neither. Filters say 全部 (``FILTERS_EMPTY_CHOICE_LABEL``
in settings, and ``FilterBooleanField`` below for yes/no filters); a form's own empty choice
says what to do (请选择单位…) where the form declares the field.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class YesNoAllSelect(forms.NullBooleanSelect):
    """全部 / 是 / 否: a yes/no filter whose empty choice is "no filter", sent as an empty value."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", _("全部")), ("true", _("是")), ("false", _("否"))]

    def format_value(self, value):
        return {True: "true", "true": "true", "True": "true", False: "false", "false": "false", "False": "false"}.get(
            value, ""
        )


class FilterBooleanField(forms.NullBooleanField):
    widget = YesNoAllSelect


def install_filter_defaults() -> None:
    """Yes/no filters of every FilterSet use ``FilterBooleanField`` (the API swaps in its strict
    field per request, see ``units.api.filters.FilterBackend``)."""
    from django_filters import filters

    filters.BooleanFilter.field_class = FilterBooleanField
