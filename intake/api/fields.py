"""The citizen's phone as the API takes it: the schema's pattern and the field's check are one."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from units.api.fields import StrictCharField

from ..limits import limit_kwargs
from ..phones import MAINLAND_PHONE_PATTERN

PHONE_MESSAGE = _("电话号码格式不正确。")


class CitizenPhoneField(StrictCharField):
    """A mainland mobile or landline, or "" (no number): ``MAINLAND_PHONE_PATTERN``.

    The value is checked as sent (not trimmed first), exactly as a JSON Schema validator checks the
    pattern, so everything the schema allows is accepted and everything else is a 400; the
    service then normalises it to E.164.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("trim_whitespace", False)
        for key, value in limit_kwargs("citizen_phone").items():
            kwargs.setdefault(key, value)
        kwargs.setdefault(
            "help_text", _("中国大陆手机或固定电话，可带 +86，数字间可有空格或短横线，如 138 0000 1234、024-23456789")
        )
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(MAINLAND_PHONE_PATTERN, message=PHONE_MESSAGE, code="invalid"))
