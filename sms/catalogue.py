"""Templates as stored: the admin-edited text of a code (else the built-in default), the provider a
template goes through, and its parameters checked against that provider's rules."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from units.memo import ProcessCache

from .backends import BACKENDS, BaseBackend, backend_class, get_backend
from .models import SmsTemplate
from .texts import DEFAULT_TEMPLATES, TemplateMissing, render_text


def seed_templates() -> None:
    """Create the missing default templates (idempotent; never overwrites an administrator's text)."""
    for code, (name, text, sample) in DEFAULT_TEMPLATES.items():
        SmsTemplate.objects.get_or_create(code=code, defaults={"name": name, "text": text, "sample_params": sample})


def _stored_templates() -> dict[str, tuple[str, bool, str]]:
    return {
        code: (text, is_active, provider)
        for code, text, is_active, provider in SmsTemplate.objects.values_list("code", "text", "is_active", "provider")
    }


# Every template row (a few dozen), kept per process: each SMS queued reads its text and provider.
# An administrator's edit is seen at once here and within seconds by every other process.
stored_templates = ProcessCache("sms-templates", _stored_templates).watch(SmsTemplate)


def template_text(code: str) -> str:
    """The current text of a template: the admin-edited row, else the built-in default."""
    text, is_active, _provider = stored_templates.get().get(code, ("", False, ""))
    if is_active and text:
        return text
    if code in DEFAULT_TEMPLATES:
        return DEFAULT_TEMPLATES[code][1]
    raise TemplateMissing(code)


def render(code: str, params: dict[str, Any]) -> str:
    return render_text(template_text(code), params)


def template_provider(template_code: str) -> str:
    """The provider a template is sent through: its own when set, else the deployment's."""
    _text, _is_active, own = stored_templates.get().get(template_code, ("", False, ""))
    return own or ""


def backend_for_template(template_code: str) -> BaseBackend:
    return get_backend(template_provider(template_code))


def validate_params_for_provider(*, template_code: str, text: str, params: dict[str, Any]) -> None:
    """Check the parameters against the rules of the provider the template goes through (Aliyun
    and Tencent refuse values that are too long or malformed); raises ValidationError."""
    cls = backend_class(
        BACKENDS.get(template_provider(template_code)) or BACKENDS.get(settings.SMS_BACKEND) or settings.SMS_BACKEND
    )
    check = getattr(cls, "validate_params", None)
    if check is not None:
        check(text=text, params=params)
