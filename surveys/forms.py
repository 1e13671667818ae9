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


class RecordImportForm(forms.Form):
    file = forms.FileField(label=_("业务记录文件（CSV或XLSX）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise ValidationError(_("只支持CSV或XLSX文件。"))
        return upload


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("处理说明"), required=False, max_length=300)


# --- QR ratings ------------------------------------------------------------------------------


class QrRatingForm(forms.Form):
    """The public form a QR code opens: verdict, optional tags, comment and phone."""

    verdict = forms.ChoiceField(
        label=_("总体评价"),
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意、基本满意或不满意。")},
    )
    tags = forms.MultipleChoiceField(label=_("评价标签（可多选）"), required=False, widget=forms.CheckboxSelectMultiple)
    text = forms.CharField(
        label=_("意见建议（选填）"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("请写下您的意见或建议")}),
        error_messages={"max_length": _("意见建议最多500字。")},
    )
    phone = forms.CharField(
        label=_("手机号码（选填，便于我们联系您）"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, *args, **kwargs):
        from .choices import QR_VERDICTS, QrTag, Verdict

        super().__init__(*args, **kwargs)
        labels = dict(Verdict.choices)
        self.fields["verdict"].choices = [(v, labels[v]) for v in QR_VERDICTS]
        self.fields["tags"].choices = QrTag.choices

    def clean_phone(self) -> str:
        raw = (self.cleaned_data.get("phone") or "").strip()
        return normalize_phone(raw) if raw else ""

    @property
    def tag_groups(self):
        from .choices import QrTag

        good = [b for b in self["tags"] if not QrTag(b.data["value"]).is_negative]
        bad = [b for b in self["tags"] if QrTag(b.data["value"]).is_negative]
        return good, bad


class RatingPointForm(forms.Form):
    """Create or edit a rating point (center staff and administrators)."""

    unit = forms.ModelChoiceField(label=_("所属单位"), queryset=None, empty_label=_("请选择单位"))
    kind = forms.ChoiceField(label=_("类型"))
    name = forms.CharField(label=_("名称"), max_length=60, help_text=_("如“户籍窗口”“3号窗口”“民警张伟”。"))
    officer_code = forms.CharField(label=_("警号（民警警号牌时填写）"), max_length=20, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, units=None, **kwargs):
        from units.models import Unit

        from .choices import RatingPointKind

        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units if units is not None else Unit.objects.filter(is_active=True)
        self.fields["kind"].choices = RatingPointKind.choices

    def clean(self):
        from .choices import RatingPointKind

        data = super().clean()
        if data.get("kind") == RatingPointKind.BADGE and not (data.get("officer_code") or "").strip():
            self.add_error("officer_code", _("民警警号牌需填写警号。"))
        return data


# --- sampling surveys --------------------------------------------------------------------------


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("调查名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"))
    intro = forms.CharField(
        label=_("开场说明"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        from .choices import SurveyKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = SurveyKind.choices


class SampleForm(forms.Form):
    source = forms.ChoiceField(label=_("样本来源"))
    size = forms.IntegerField(label=_("样本量"), min_value=1, max_value=10000, initial=200)
    period_from = forms.DateField(label=_("期间起"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_to = forms.DateField(label=_("期间止"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from .choices import SampleSource

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [c for c in SampleSource.choices if c[0] != SampleSource.UPLOAD]


class SampleUploadForm(forms.Form):
    file = forms.FileField(label=_("号码名单（CSV或TXT，每行一个号码，或第一列为号码）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise ValidationError(_("名单文件不能超过2MB。"))
        raw = upload.read()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return raw.decode(encoding).splitlines()
            except UnicodeDecodeError:
                continue
        raise ValidationError(_("无法识别文件编码，请保存为UTF-8。"))


def survey_answer_form(questions, data=None):
    """The public form of a survey, one field per question (radio for choices and scales)."""
    from .choices import QuestionKind

    form = forms.Form(data)
    for question in questions:
        key = str(question.pk)
        if question.kind == QuestionKind.TEXT:
            field = forms.CharField(
                label=question.text,
                required=question.required,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        else:
            labels = {"5": _("5分"), "4": _("4分"), "3": _("3分"), "2": _("2分"), "1": _("1分")}
            choices = [(c, labels.get(c, c) if question.kind == QuestionKind.SCALE else c) for c in question.choices]
            field = forms.ChoiceField(
                label=question.text, required=question.required, choices=choices, widget=forms.RadioSelect
            )
        field.error_messages["required"] = _("请回答此题。")
        form.fields[key] = field
    return form
