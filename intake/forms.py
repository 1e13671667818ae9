"""Forms of the staff pages and the public mailboxes (all messages in Chinese)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from units.models import Unit
from units.widgets import quicken

from .choices import Channel, Kind, Severity
from .limits import MAILBOX_CONTENT_MAX_CHARS
from .limits import limit_kwargs as _limited
from .models import Category
from .phones import normalize_phone
from .validators import validate_attachment


def _categories():
    return Category.objects.filter(is_active=True).select_related("parent").order_by("sort_order", "code")


class PhoneField(forms.CharField):
    """A Chinese mobile or landline, cleaned to E.164 (never shown back unmasked)."""

    def clean(self, value):
        value = super().clean(value)
        return normalize_phone(value) if value else ""


class HotlineForm(forms.Form):
    """The fast form center staff type a call into; severity left empty means "propose one"."""

    channel = forms.ChoiceField(
        label=_("渠道"),
        choices=[(Channel.HOTLINE, Channel.HOTLINE.label), (Channel.ENTERPRISE, Channel.ENTERPRISE.label)],
        initial=Channel.HOTLINE,
    )
    citizen_phone = PhoneField(label=_("来电号码"), max_length=40)
    citizen_name = forms.CharField(label=_("诉求人"), required=False, **_limited("citizen_name"))
    kind = forms.ChoiceField(label=_("诉求类型"), choices=Kind.choices, initial=Kind.COMPLAINT)
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=_categories(), required=False, empty_label=_("（待定）")
    )
    severity = forms.ChoiceField(label=_("分级"), choices=[("", _("（系统建议）")), *Severity.choices], required=False)
    address = forms.CharField(label=_("地址"), required=False, **_limited("address"))
    title = forms.CharField(label=_("标题"), required=False, **_limited("title"))
    content = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 6}), **_limited("content"))
    is_enterprise = forms.BooleanField(label=_("涉企"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()


# static/js/unit_picker.js: a filter box over the select (checkboxes for several units); no Ctrl+click.
PICKER_ATTRS = {"data-unit-picker": ""}


class TriageForm(forms.Form):
    kind = forms.ChoiceField(label=_("诉求类型"), choices=Kind.choices)
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=_categories(), required=False, empty_label=_("（待定）")
    )
    severity = forms.ChoiceField(label=_("分级"), choices=Severity.choices)
    proposed_unit = forms.ModelChoiceField(
        label=_("建议承办单位"),
        queryset=Unit.objects.filter(is_active=True),
        required=False,
        empty_label=_("（未定）"),
        widget=forms.Select(attrs=PICKER_ATTRS),
    )
    note = forms.CharField(label=_("研判意见"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


def _active_units():
    return Unit.objects.filter(is_active=True).order_by("path")


class TriageDispatchForm(TriageForm):
    """The desk panel's one form: the triage fields and the dispatch (lead unit, assisting units,
    time limit, note). ``then`` says what the panel shows after: "close" (the list) or "next" (the
    next appeal of the same queue); ``queue`` is the desk's query string, kept as it was."""

    proposed_unit = None
    unit = UnitField(
        label=_("承办单位"),
        queryset=_active_units(),
        required=False,
        empty_label=_("（未定）"),
        widget=forms.Select(attrs=PICKER_ATTRS),
        help_text=_("已预选建议单位；输入名称可筛选。"),
    )
    assisting_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"),
        queryset=_active_units(),
        required=False,
        widget=forms.SelectMultiple(attrs={**PICKER_ATTRS, "size": 4}),
        help_text=_("可选多个；输入名称筛选后勾选。"),
    )
    working_days = forms.IntegerField(label=_("办理时限（工作日）"), required=False, min_value=1, max_value=60)
    note = forms.CharField(label=_("派单说明"), required=False, max_length=500)
    then = forms.ChoiceField(choices=[("close", "close"), ("next", "next")], required=False)
    queue = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("proposed_unit", None)
        self.fields["unit"].queryset = _active_units()
        self.fields["assisting_units"].queryset = _active_units()
        self.fields["working_days"].widget.attrs["placeholder"] = _("按分级")

    def clean(self):
        data = super().clean()
        if data.get("then") != "next" and not data.get("unit"):
            self.add_error("unit", _("请选择承办单位。"))
        return data


class BulkForm(forms.Form):
    """The desk's bulk bar: the category or severity to set on every selected appeal."""

    category = forms.ModelChoiceField(label=_("分类"), queryset=_categories(), required=False, empty_label=_("分类…"))
    severity = forms.ChoiceField(label=_("分级"), choices=[("", _("分级…")), *Severity.choices], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()
        quicken(self)  # on every desk page: its two selects written without a template per option


class CloseForm(forms.Form):
    reply = forms.CharField(label=_("答复内容（群众可查看）"), widget=forms.Textarea(attrs={"rows": 4}))
    note = forms.CharField(label=_("内部备注"), required=False, max_length=500)


class MergeForm(forms.Form):
    into = forms.CharField(label=_("原诉求查询码"), max_length=12)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class MarkForDispatchForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("附件"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_attachment(upload)
        return upload


class MailboxForm(forms.Form):
    """The public letter to the mayor or the director (mobile first, with an offline captcha)."""

    citizen_name = forms.CharField(label=_("您的姓名"), **_limited("citizen_name", name=_("姓名")))
    citizen_phone = PhoneField(
        label=_("手机号码"), max_length=40, help_text=_("用于查询办理进度和工作人员联系您，不会公开。")
    )
    title = forms.CharField(label=_("标题"), **_limited("title"))
    content = forms.CharField(
        label=_("来信内容"),
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 8}),
        **_limited("content", limit=MAILBOX_CONTENT_MAX_CHARS, name=_("来信内容")),
    )
    address = forms.CharField(label=_("事发地点"), required=False, **_limited("address", name=_("事发地点")))
    is_enterprise = forms.BooleanField(label=_("我是企业，反映涉企问题"), required=False)
    attachment = forms.FileField(label=_("图片或录音（可选）"), required=False)
    captcha = forms.CharField(label=_("验证码"), max_length=4, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    captcha_token = forms.CharField(widget=forms.HiddenInput)
    # A field people never see (moved off screen) but form-filling robots do fill in.
    website = forms.CharField(
        label=_("请勿填写此项"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise ValidationError(_("提交未通过校验，请刷新页面后重试。"))
        return ""

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            validate_attachment(upload)
        return upload


class TrackForm(forms.Form):
    code = forms.CharField(label=_("查询码"), max_length=12)
    phone = PhoneField(label=_("来信时填写的手机号码"), max_length=40)

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if not code.isalnum():
            raise ValidationError(_("查询码格式不正确。"))
        return code
