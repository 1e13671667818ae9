"""Forms of the analytics pages: the dashboard's period picker and the on-demand generation forms."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.choices import Tier

from .choices import METRIC_LABELS, BulletinKind, PeriodKind
from .periods import Period, presets

MAX_CUSTOM_DAYS = 366
UNIT_SORTS = [
    ("", _("默认")),
    ("name", _("单位")),
    ("appeals", _("诉求")),
    ("ratings", _("评价")),
    *[(key, label) for key, label in METRIC_LABELS.items()],
    ("escalations", _("升级投诉")),
]


class PeriodForm(forms.Form):
    """today / this week / this month, or a custom range of local days (both ends included)."""

    period = forms.ChoiceField(label=_("统计周期"), choices=PeriodKind.choices, required=False)
    start = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The unit table: sorted by a column (default: the tree's own order), a page at a time.
    sort = forms.ChoiceField(label=_("排序"), choices=UNIT_SORTS, required=False)
    desc = forms.BooleanField(required=False)
    page = forms.IntegerField(label=_("页码"), min_value=1, required=False)

    def clean(self):
        data = super().clean()
        kind = data.get("period") or PeriodKind.MONTH
        data["period"] = kind
        if kind == PeriodKind.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("自定义周期请填写开始日期和结束日期。"))
            if end < start:
                raise forms.ValidationError(_("结束日期不能早于开始日期。"))
            if (end - start).days >= MAX_CUSTOM_DAYS:
                raise forms.ValidationError(_("自定义周期最长一年。"))
        return data

    def get_period(self) -> Period:
        """The chosen period (this month when the form is empty or invalid)."""
        choices = presets(timezone.localdate())
        if not self.is_valid():
            return choices["month"]
        kind = self.cleaned_data["period"]
        if kind == PeriodKind.CUSTOM:
            return Period(self.cleaned_data["start"], self.cleaned_data["end"] + dt.timedelta(days=1))
        return choices[kind]


class ComputeRankingForm(forms.Form):
    month = forms.DateField(label=_("月份"), input_formats=["%Y-%m", "%Y-%m-%d"])
    tier = forms.ChoiceField(
        label=_("层级"), choices=[(t.value, t.label) for t in (Tier.STATION, Tier.DISTRICT, Tier.DEPARTMENT)]
    )


class GenerateBulletinForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=BulletinKind.choices)
    on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
