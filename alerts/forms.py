"""Forms of the early-warning pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .choices import AlertState, Detector


class AlertFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), ("open", _("未处置")), *AlertState.choices],
    )
    detector = forms.ChoiceField(label=_("检测器"), required=False, choices=[("", _("全部")), *Detector.choices])
    unit = forms.ModelChoiceField(
        label=_("责任单位"), required=False, queryset=Unit.objects.order_by("path"), empty_label=_("全部")
    )


class HandleForm(forms.Form):
    note = forms.CharField(label=_("处置说明"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
