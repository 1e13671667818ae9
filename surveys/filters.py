"""One FilterSet per listable model, shared by the staff lists and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.phones import hash_of
from units.models import Unit
from units.widgets import QuickFilterSet

from .choices import CallbackStatus, RatingPointKind, RatingSource, RecordState, Verdict
from .models import BusinessType, Callback, Rating, RatingPoint, ServiceRecord


class ServiceRecordFilter(QuickFilterSet):
    business_type = django_filters.ModelChoiceFilter(queryset=BusinessType.objects.all(), label=_("业务类型"))
    state = django_filters.ChoiceFilter(choices=RecordState.choices, label=_("回访状态"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label=_("办理单位"))
    served_from = django_filters.DateFilter(field_name="served_at", lookup_expr="date__gte", label=_("办理日期起"))
    served_to = django_filters.DateFilter(field_name="served_at", lookup_expr="date__lte", label=_("办理日期止"))

    class Meta:
        model = ServiceRecord
        fields = ["business_type", "state", "unit", "external_id"]


class RatingFilter(QuickFilterSet):
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices, label=_("评价"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label=_("被评价单位"))
    business_type = django_filters.ModelChoiceFilter(queryset=BusinessType.objects.all(), label=_("业务类型"))
    source = django_filters.ChoiceFilter(choices=RatingSource.choices, label=_("来源"))
    rating_point = django_filters.NumberFilter(field_name="rating_point_id", label="", widget=forms.HiddenInput)
    rated_from = django_filters.DateFilter(field_name="rated_at", lookup_expr="date__gte", label=_("评价日期起"))
    rated_to = django_filters.DateFilter(field_name="rated_at", lookup_expr="date__lte", label=_("评价日期止"))

    class Meta:
        model = Rating
        fields = ["verdict", "unit", "business_type", "source", "rating_point"]


class CallbackFilter(QuickFilterSet):
    status = django_filters.ChoiceFilter(choices=CallbackStatus.choices, label=_("状态"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已超时"))
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label=_("被评价单位"))
    q = django_filters.CharFilter(label=_("搜索"), method="search")

    class Meta:
        model = Callback
        fields = ["status", "unit", "verdict", "q"]

    def search(self, queryset, name, value):
        """The citizen's full number (keyed hash of the rating's phone, never decrypted), the last
        four digits, name, tracking code or words of the appeal rated, or the callback's number."""
        from intake.filters import search_condition

        text = (value or "").strip()[:100]
        if not text:
            return queryset
        caller = hash_of(text) if sum(ch.isdigit() for ch in text) >= 7 else None
        if caller:
            return queryset.filter(Q(rating__phone_hash=caller) | Q(rating__appeal__citizen_phone_hash=caller))
        condition = (
            search_condition(text, vendor="", prefix="rating__appeal__")
            | Q(reason__icontains=text)
            | Q(rating__text__icontains=text)
        )
        number = text.lstrip("#")
        if number.isdigit() and len(number) <= 12:
            condition |= Q(pk=int(number))
        return queryset.filter(condition)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        if value:
            return queryset.open().filter(due_at__lt=now)
        return queryset.exclude(due_at__lt=now, status__in=[CallbackStatus.PENDING, CallbackStatus.REACHED])


class RatingPointFilter(QuickFilterSet):
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.all(), method="filter_unit", label=_("单位（含下级）")
    )
    kind = django_filters.ChoiceFilter(choices=RatingPointKind.choices, label=_("类型"))
    is_active = django_filters.BooleanFilter(label=_("启用"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("名称"))

    class Meta:
        model = RatingPoint
        fields = ["unit", "kind", "is_active", "name"]

    def filter_unit(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset
