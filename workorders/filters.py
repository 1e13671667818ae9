"""One FilterSet for work orders, shared by the staff list and the API."""

import django_filters
from django.db import connections
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intake.choices import Severity
from intake.filters import search_condition
from units.models import Unit
from units.widgets import QuickFilterSet

from .choices import WorkOrderStatus
from .models import WorkOrder


class WorkOrderFilter(QuickFilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("状态"), choices=WorkOrderStatus.choices)
    severity = django_filters.ChoiceFilter(label=_("分级"), choices=Severity.choices)
    unit = django_filters.ModelChoiceFilter(
        label=_("承办单位（含下级）"), queryset=Unit.objects.filter(is_active=True), method="filter_unit"
    )
    is_listed = django_filters.BooleanFilter(label=_("挂牌督办"))
    is_overdue = django_filters.BooleanFilter(label=_("超期"))
    dispatched_after = django_filters.DateFilter(label=_("派单起"), field_name="dispatched_at", lookup_expr="date__gte")
    dispatched_before = django_filters.DateFilter(
        label=_("派单止"), field_name="dispatched_at", lookup_expr="date__lte"
    )
    q = django_filters.CharFilter(label=_("搜索"), method="search")

    class Meta:
        model = WorkOrder
        fields = ["status", "severity", "unit", "is_listed", "is_overdue"]

    def filter_unit(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The appeal's search (caller's full number by keyed hash, last four digits, name, every
        # word), or the order's number.
        condition = Q(number__icontains=value)
        appeal = search_condition(value, vendor=connections[queryset.db].vendor, prefix="appeal__")
        return queryset.filter(condition | appeal if appeal is not None else condition)
