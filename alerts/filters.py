"""The one filter set of the alert list, shared by the staff page and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .choices import OPEN_STATES, AlertState, Detector
from .models import Alert

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
STATE_CHOICES = [("open", _("未处置")), *AlertState.choices]


class AlertFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=STATE_CHOICES, method="filter_state", label=_("状态"))
    detector = django_filters.ChoiceFilter(choices=Detector.choices, label=_("检测器"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.order_by("path"), label=_("责任单位"))
    is_listed = django_filters.BooleanFilter(label=_("挂牌督办"))
    raised_from = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__gte", label=_("预警日期起"), widget=DATE
    )
    raised_to = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__lte", label=_("预警日期止"), widget=DATE
    )

    class Meta:
        model = Alert
        fields = ["state", "detector", "unit", "is_listed"]

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(state__in=OPEN_STATES)
        return queryset.filter(state=value)
