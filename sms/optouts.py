"""The opt-out list: a phone that asked for no more SMS (TD, STOP, the provider's blacklist, staff)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.phones import normalize_phone, phone_hash

from .choices import SmsPurpose, SmsStatus
from .models import InboundSms, OptOut, OutboundSms

# What an opted-out phone no longer receives: what we ask of citizens. Notices about their own
# appeals (closure) and staff reminders still go out.
SOLICITED = (SmsPurpose.EVALUATION, SmsPurpose.FOLLOW_UP, SmsPurpose.SURVEY)


def opt_out(*, phone: str, source: str, actor=None, inbound: InboundSms | None = None, note: str = "") -> OptOut:
    """Put a phone on the opt-out list (once); queued SMS asking it something are not sent."""
    try:
        e164 = normalize_phone(phone)
    except ValidationError:
        e164 = phone  # as the provider gave it (a number we cannot parse still opts out)
    digest = phone_hash(e164)
    opt, _created = OptOut.objects.get_or_create(
        phone_hash=digest, defaults={"phone": e164, "source": source, "inbound": inbound, "note": note[:200]}
    )
    # Not yet sent: never send them now.
    OutboundSms.objects.filter(phone_hash=digest, status=SmsStatus.QUEUED, purpose__in=SOLICITED).update(
        status=SmsStatus.FAILED, failed_at=timezone.now(), last_error="号码已退订"
    )
    return opt


def is_opted_out(phone_hash_value: str) -> bool:
    return OptOut.objects.filter(phone_hash=phone_hash_value).exists()
