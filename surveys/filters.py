"""One FilterSet per listable model, shared by the staff lists and the API."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .choices import CallbackStatus, RecordState, SmsPurpose, SmsStatus, Verdict
from .models import BusinessType, Callback, OutboundSms, Rating, ServiceRecord


class ServiceRecordFilter(django_filters.FilterSet):
    business_type = django_filters.ModelChoiceFilter(queryset=BusinessType.objects.all(), label=_("业务类型"))
    state = django_filters.ChoiceFilter(choices=RecordState.choices, label=_("回访状态"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label=_("办理单位"))
    served_from = django_filters.DateFilter(field_name="served_at", lookup_expr="date__gte", label=_("办理日期起"))
    served_to = django_filters.DateFilter(field_name="served_at", lookup_expr="date__lte", label=_("办理日期止"))

    class Meta:
        model = ServiceRecord
        fields = ["business_type", "state", "unit", "external_id"]


class OutboundSmsFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SmsStatus.choices, label=_("状态"))
    purpose = django_filters.ChoiceFilter(choices=SmsPurpose.choices, label=_("用途"))
    needs_reconciliation = django_filters.BooleanFilter(label=_("待核对"))
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("日期起"))
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("日期止"))

    class Meta:
        model = OutboundSms
        fields = ["status", "purpose", "needs_reconciliation"]


class RatingFilter(django_filters.FilterSet):
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices, label=_("评价"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label=_("被评价单位"))
    business_type = django_filters.ModelChoiceFilter(queryset=BusinessType.objects.all(), label=_("业务类型"))
    rated_from = django_filters.DateFilter(field_name="rated_at", lookup_expr="date__gte", label=_("评价日期起"))
    rated_to = django_filters.DateFilter(field_name="rated_at", lookup_expr="date__lte", label=_("评价日期止"))

    class Meta:
        model = Rating
        fields = ["verdict", "unit", "business_type", "source"]


class CallbackFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CallbackStatus.choices, label=_("状态"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已超时"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label=_("被评价单位"))

    class Meta:
        model = Callback
        fields = ["status", "unit", "verdict"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        if value:
            return queryset.open().filter(due_at__lt=now)
        return queryset.exclude(due_at__lt=now, status__in=[CallbackStatus.PENDING, CallbackStatus.REACHED])
