from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import appeal_sources


class AppealImportForm(forms.Form):
    source = forms.ModelChoiceField(label=_("数据来源"), queryset=appeal_sources(), empty_label=None)
    file = forms.FileField(
        label=_("文件（CSV 或 XLSX）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = appeal_sources()
