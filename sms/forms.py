from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from intake.phones import normalize_phone


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
