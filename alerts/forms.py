"""Forms of the early-warning pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class HandleForm(forms.Form):
    note = forms.CharField(label=_("处置说明"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
