import django_filters
from django.utils.translation import gettext_lazy as _

from units.widgets import QuickFilterSet

from .choices import SmsPurpose, SmsStatus
from .models import OutboundSms


class OutboundSmsFilter(QuickFilterSet):
    status = django_filters.ChoiceFilter(choices=SmsStatus.choices, label=_("状态"))
    purpose = django_filters.ChoiceFilter(choices=SmsPurpose.choices, label=_("用途"))
    needs_reconciliation = django_filters.BooleanFilter(label=_("待核对"))
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("日期起"))
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("日期止"))

    class Meta:
        model = OutboundSms
        fields = ["status", "purpose", "needs_reconciliation"]
