"""Forms of the staff pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from intake.phones import normalize_phone

from .choices import CallbackVerdict, CallOutcome


class CallForm(forms.Form):
    outcome = forms.ChoiceField(label=_("拨打结果"), choices=CallOutcome.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("不满意原因"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_reasonable = forms.TypedChoiceField(
        label=_("诉求是否合理"),
        required=False,
        choices=[("", _("暂不判断")), ("1", _("合理")), ("0", _("不合理"))],
        coerce=lambda v: v == "1",
        empty_value=None,
    )
    note = forms.CharField(label=_("通话记录"), required=False, max_length=500)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == CallOutcome.REACHED and not (data.get("reason") or "").strip():
            self.add_error("reason", _("已接通时请记录群众反映的不满意原因。"))
        return data


class CloseForm(forms.Form):
    verdict = forms.ChoiceField(label=_("回访结论"), choices=CallbackVerdict.choices)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class RectifyForm(forms.Form):
    note = forms.CharField(label=_("整改要求"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReplyForm(forms.Form):
    """The simulator: answer as the citizen."""

    phone_ref = forms.IntegerField(widget=forms.HiddenInput)
    body = forms.CharField(label=_("回复内容"), max_length=500)


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=32)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class RecordImportForm(forms.Form):
    file = forms.FileField(label=_("业务记录文件（CSV或XLSX）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise ValidationError(_("只支持CSV或XLSX文件。"))
        return upload


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("处理说明"), required=False, max_length=300)
