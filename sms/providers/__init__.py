"""Template SMS providers of the Chinese mainland beside Twilio and the outbox: Aliyun SMS
(``aliyun``) and Tencent Cloud SMS (``tencent``), each a backend with the outbox interface
(``send`` / ``fetch_status`` / ``find_sent``), its error-code mapping, its parameter rules and
its callback views (delivery reports and citizens' replies).

Kept apart from ``sms.backends``: the base interface there knows no provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ProviderState:
    name: str
    label: str
    configured: bool
    missing: tuple[str, ...]
    is_default: bool


REQUIRED_SETTINGS = {
    "twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
    "aliyun": ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME"),
    "tencent": ("TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME"),
    "outbox": (),
}
CALLBACK_SETTINGS = {
    "aliyun": ("ALIYUN_SMS_CALLBACK_TOKEN", "ALIYUN_SMS_CALLBACK_CIDRS"),
    "tencent": ("TENCENT_SMS_CALLBACK_TOKEN", "TENCENT_SMS_CALLBACK_CIDRS"),
}


def provider_states() -> list[ProviderState]:
    """Per provider: are the settings it needs to send (and, for Aliyun and Tencent, to accept
    callbacks) present? Names of missing settings only, never their values."""
    from ..backends import BACKENDS
    from ..choices import SmsProvider

    default = next((n for n, p in BACKENDS.items() if settings.SMS_BACKEND in (n, p)), "")
    states = []
    for name in ("aliyun", "tencent", "twilio", "outbox"):
        needed = REQUIRED_SETTINGS[name] + CALLBACK_SETTINGS.get(name, ())
        missing = tuple(key for key in needed if not getattr(settings, key, None))
        if name == "twilio" and not (settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER):
            missing += ("TWILIO_MESSAGING_SERVICE_SID",)
        states.append(
            ProviderState(
                name=name,
                label=str(SmsProvider(name).label),
                configured=not missing,
                missing=missing,
                is_default=name == default,
            )
        )
    return states


def send_test_sms(*, provider: str, phone: str, template_code: str, actor) -> tuple[object, str]:
    """An administrator's test message: the template with its longest sample values, to the phone
    they entered, through ``provider`` whatever the template's own route. Recorded as an outbox
    row with purpose ``test`` and sent at once (any hour: it goes to the administrator's own
    phone). Returns (row, what happened). Raises ValidationError for a bad phone or parameters
    the provider would refuse."""
    import datetime as dt
    import logging

    from django.utils import timezone

    from ..backends import BACKENDS, backend_class
    from ..catalogue import template_text
    from ..choices import SmsPurpose
    from ..models import OutboundSms, SmsTemplate
    from ..outbox import send_one
    from ..services import queue_sms

    template = SmsTemplate.objects.get(code=template_code)
    check = getattr(backend_class(BACKENDS[provider]), "validate_params", None)
    if check is not None:
        check(text=template_text(template_code), params=template.sample_params)
    # Due later so that no worker picks it up by the template's route before we send it here.
    sms = queue_sms(
        phone=phone,
        template_code=template_code,
        params=template.sample_params,
        purpose=SmsPurpose.TEST,
        send_after=timezone.now() + dt.timedelta(minutes=10),
    )
    OutboundSms.objects.filter(pk=sms.pk).update(backend=provider)
    logging.getLogger(__name__).info("test SMS %s through %s by user %s", sms.pk, provider, actor.pk)
    outcome, _wait = send_one(sms.pk, backend=backend_class(BACKENDS[provider])(), respect_hours=False)
    sms.refresh_from_db()
    return sms, outcome
