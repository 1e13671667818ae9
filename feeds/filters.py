"""One FilterSet per listable model, shared by the staff pages and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .choices import BatchStatus, DeliveryStatus, FeedKind
from .models import FeedSource, ImportBatch, ResultDelivery


class ResultDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=DeliveryStatus.choices)
    source = django_filters.ModelChoiceFilter(
        label=_("来源"), queryset=FeedSource.objects.all(), to_field_name="code", field_name="source"
    )
    external_id = django_filters.CharFilter(label=_("来源编号"), field_name="appeal__external_id")
    appeal = django_filters.NumberFilter(label=_("诉求"), field_name="appeal_id")

    class Meta:
        model = ResultDelivery
        fields = ["status", "source", "external_id", "appeal"]


class ImportBatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=BatchStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("数据类型"), choices=FeedKind.choices)
    source = django_filters.ModelChoiceFilter(
        label=_("来源"), queryset=FeedSource.objects.all(), to_field_name="code", field_name="source"
    )

    class Meta:
        model = ImportBatch
        fields = ["status", "kind", "source"]
