"""The one FilterSet of appeals, shared by the triage desk and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .choices import AppealStatus, Channel, Kind, Severity
from .models import Appeal, Category


def _units(request):
    """The units a user may filter on: those he sees (all for city-wide roles)."""
    units = Unit.objects.filter(is_active=True)
    user = getattr(request, "user", None)
    return units.visible_to(user) if user is not None and user.is_authenticated else units


class AppealFilter(django_filters.FilterSet):
    """Channel, kind, category (with its sub-categories), severity, unit (with the units below it),
    status, received date range, repeat/enterprise flags and free text."""

    channel = django_filters.MultipleChoiceFilter(label=_("渠道"), choices=Channel.choices)
    kind = django_filters.MultipleChoiceFilter(label=_("诉求类型"), choices=Kind.choices)
    category = django_filters.ModelChoiceFilter(
        label=_("分类"),
        queryset=Category.objects.filter(is_active=True).select_related("parent"),
        method="filter_category",
        empty_label=_("全部"),
    )
    severity = django_filters.MultipleChoiceFilter(label=_("分级"), choices=Severity.choices)
    unit = django_filters.ModelChoiceFilter(
        label=_("责任单位"), queryset=lambda request: _units(request), method="filter_unit", empty_label=_("全部")
    )
    status = django_filters.MultipleChoiceFilter(label=_("状态"), choices=AppealStatus.choices)
    received_after = django_filters.DateFilter(label=_("受理日期起"), field_name="received_at", lookup_expr="date__gte")
    received_before = django_filters.DateFilter(
        label=_("受理日期止"), field_name="received_at", lookup_expr="date__lte"
    )
    is_repeat = django_filters.BooleanFilter(label=_("重复诉求"))
    is_enterprise = django_filters.BooleanFilter(label=_("涉企"))
    has_risk = django_filters.BooleanFilter(label=_("风险预警"), method="filter_risk")
    q = django_filters.CharFilter(label=_("关键词"), method="filter_text")

    class Meta:
        model = Appeal
        fields = ["channel", "kind", "category", "severity", "unit", "status", "is_repeat", "is_enterprise"]

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category=value) | Q(category__parent=value)) if value else queryset

    def filter_unit(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset

    def filter_risk(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(risk_words="") if value else queryset.filter(risk_words="")

    def filter_text(self, queryset, name, value):
        # On PostgreSQL the trigram GIN index on content serves icontains for 3+ characters.
        text = (value or "").strip()[:100]
        if not text:
            return queryset
        condition = Q(content__icontains=text) | Q(title__icontains=text) | Q(address__icontains=text)
        if len(text) <= 12:
            condition |= Q(tracking_code=text.upper()) | Q(external_id=text)
        return queryset.filter(condition)
