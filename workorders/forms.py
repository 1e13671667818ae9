"""Staff forms of the work-order app. They validate input; the services do the work."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .choices import ContactMethod, FeedbackResult


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name}（{obj.code}）"


def _active_units():
    return Unit.objects.filter(is_active=True).order_by("path")


class DispatchForm(forms.Form):
    unit = UnitChoiceField(
        label=_("承办单位"), queryset=_active_units(), error_messages={"required": _("请选择承办单位。")}
    )
    assisting_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"), queryset=_active_units(), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    working_days = forms.IntegerField(
        label=_("办理时限（工作日，留空按分级）"), required=False, min_value=1, max_value=60
    )
    note = forms.CharField(label=_("派单说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _active_units()
        self.fields["assisting_units"].queryset = _active_units()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class FeedbackForm(forms.Form):
    text = forms.CharField(
        label=_("办理情况"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写办理情况。")},
    )
    result = forms.ChoiceField(label=_("办理结果"), choices=FeedbackResult.choices)
    contact_method = forms.ChoiceField(label=_("联系群众"), choices=ContactMethod.choices)
    contacted_at = forms.DateTimeField(
        label=_("联系时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    attachments = MultipleFileField(label=_("附件（图片、PDF、Word 等）"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": _("请填写理由。")}
    )


class ReturnForm(ReasonForm):
    working_days = forms.IntegerField(label=_("重办时限（工作日）"), required=False, min_value=1, max_value=60)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    reply = forms.CharField(
        label=_("答复群众（留空则用办理情况）"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class SubDispatchForm(forms.Form):
    unit = UnitChoiceField(label=_("转派至"), queryset=Unit.objects.none())
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(pk__in=[u.pk for u in units]).order_by("path")


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(label=_("延期（工作日）"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("延期理由"), widget=forms.Textarea(attrs={"rows": 2}))


class ApproveExtensionForm(forms.Form):
    days = forms.IntegerField(label=_("同意延期（工作日，留空按申请）"), required=False, min_value=1, max_value=60)
    note = forms.CharField(label=_("意见"), required=False)


class ConsultationForm(forms.Form):
    topic = forms.CharField(label=_("会商事项"), max_length=200)
    held_on = forms.DateField(label=_("会商日期"), widget=forms.DateInput(attrs={"type": "date"}))
    departments = forms.ModelMultipleChoiceField(
        label=_("参与单位"), queryset=Unit.objects.none(), widget=forms.SelectMultiple(attrs={"size": 5})
    )
    participants = forms.CharField(label=_("参会人员"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    decision = forms.CharField(label=_("会商意见"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = _active_units()


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    is_workday = forms.TypedChoiceField(
        label=_("类型"),
        choices=[("0", _("放假")), ("1", _("调休上班"))],
        coerce=lambda v: v == "1",
    )
    name = forms.CharField(label=_("说明（如：国庆节）"), required=False, max_length=40)
