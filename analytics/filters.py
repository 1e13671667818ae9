"""One FilterSet per listable model, shared by the staff pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from units.choices import Tier

from .choices import BulletinKind, RankingStatus
from .models import Bulletin, Ranking


class RankingFilter(django_filters.FilterSet):
    month = django_filters.DateFilter(label=_("月份（该月第一天）"))
    tier = django_filters.ChoiceFilter(label=_("层级"), choices=Tier.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RankingStatus.choices)

    class Meta:
        model = Ranking
        fields = ["month", "tier", "status"]


class BulletinFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=BulletinKind.choices)
    period_from = django_filters.DateFilter(field_name="period_start", lookup_expr="gte", label=_("起始日期不早于"))
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte", label=_("起始日期不晚于"))

    class Meta:
        model = Bulletin
        fields = ["kind", "period_from", "period_to"]
