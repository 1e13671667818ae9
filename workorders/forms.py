"""Staff forms of the work-order app. They validate input; the services do the work."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .choices import ContactMethod, FeedbackResult


def _rule(text, **values) -> str:
    return str(text) % values


# Help texts that quote a setting: evaluated when shown, so the form states the limit in force.
rule = lazy(_rule, str)

# A plain <select multiple> that static/js/unit_picker.js turns into a filter box and checkboxes.
PICKER_ATTRS = {"size": 6, "data-unit-picker": ""}


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name}（{obj.code}）"


def _active_units():
    return Unit.objects.filter(is_active=True).order_by("path")


class DispatchForm(forms.Form):
    unit = UnitChoiceField(
        label=_("承办单位"),
        queryset=_active_units(),
        empty_label=_("请选择承办单位"),
        widget=forms.Select(attrs={"data-unit-picker": ""}),
        error_messages={"required": _("请选择承办单位。")},
    )
    assisting_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"),
        queryset=_active_units(),
        required=False,
        widget=forms.SelectMultiple(attrs=PICKER_ATTRS),
        help_text=_("可选多个；输入名称筛选后勾选。"),
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
    attachments = MultipleFileField(
        label=_("附件（图片、PDF、Word 等）"),
        required=False,
        help_text=rule(
            _("最多 %(n)d 个，每个不超过 %(mb)d MB；图片、PDF、Word、Excel、文本、录音。"),
            n=settings.WORKORDERS_ATTACHMENT_MAX_FILES,
            mb=settings.WORKORDERS_ATTACHMENT_MAX_MB,
        ),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": _("请填写理由。")}
    )


class ReturnForm(ReasonForm):
    working_days = forms.IntegerField(
        label=_("重办时限（工作日）"),
        required=False,
        min_value=1,
        max_value=60,
        help_text=_("1 至 60 个工作日；留空沿用原时限。"),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    """The public reply of a close: what /track/, the closure SMS and 12345/12389 receive."""

    reply = forms.CharField(
        label=_("答复群众（公开）"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        help_text=_("此内容将显示在查询页、办结短信并回传 12345/12389 平台；内部反馈不会公开。"),
        error_messages={"required": _("请填写答复群众的内容（将公开给群众）。")},
    )
    confirm = forms.BooleanField(
        label=_("我已核对，以上答复可以公开给群众"),
        error_messages={"required": _("请核对答复内容并勾选确认。")},
    )


class SubDispatchForm(forms.Form):
    unit = UnitChoiceField(label=_("转派至"), queryset=Unit.objects.none(), empty_label=_("请选择下级单位"))
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(pk__in=[u.pk for u in units]).order_by("path")


def _cap_days(field: forms.IntegerField) -> None:
    # The extension limit is a setting: checked here, beside the field, before the service refuses it.
    field.max_value = settings.WORKORDERS_MAX_EXTENSION_DAYS
    field.validators.append(MaxValueValidator(settings.WORKORDERS_MAX_EXTENSION_DAYS))
    field.widget.attrs["max"] = settings.WORKORDERS_MAX_EXTENSION_DAYS


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(
        label=_("延期（工作日）"),
        min_value=1,
        help_text=rule(_("最多 %(n)d 个工作日，由中心审批。"), n=settings.WORKORDERS_MAX_EXTENSION_DAYS),
    )
    reason = forms.CharField(
        label=_("延期理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写延期理由。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _cap_days(self.fields["days"])


class ApproveExtensionForm(forms.Form):
    days = forms.IntegerField(
        label=_("同意延期（工作日，留空按申请）"),
        required=False,
        min_value=1,
        help_text=rule(_("最多 %(n)d 个工作日。"), n=settings.WORKORDERS_MAX_EXTENSION_DAYS),
    )
    note = forms.CharField(label=_("意见"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _cap_days(self.fields["days"])


class ConsultationForm(forms.Form):
    topic = forms.CharField(label=_("会商事项"), max_length=200)
    held_on = forms.DateField(label=_("会商日期"), widget=forms.DateInput(attrs={"type": "date"}))
    departments = forms.ModelMultipleChoiceField(
        label=_("参与单位"),
        queryset=Unit.objects.none(),
        widget=forms.SelectMultiple(attrs=PICKER_ATTRS),
        help_text=_("至少选择两个单位；输入名称筛选后勾选。"),
        error_messages={"required": _("请选择参与会商的单位（至少两个）。")},
    )
    participants = forms.CharField(label=_("参会人员"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    decision = forms.CharField(label=_("会商意见"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = _active_units()

    def clean_departments(self):
        # The service's rule, said beside the field before anything is saved.
        units = self.cleaned_data["departments"]
        if len(units) < 2:
            raise forms.ValidationError(_("联合会商至少需要两个单位参加。"))
        return units


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    is_workday = forms.TypedChoiceField(
        label=_("类型"),
        choices=[("0", _("放假")), ("1", _("调休上班"))],
        coerce=lambda v: v == "1",
    )
    name = forms.CharField(label=_("说明（如：国庆节）"), required=False, max_length=40)
