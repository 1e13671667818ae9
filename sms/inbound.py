"""Citizens' messages (上行): stored once per provider message id, then read — an opt-out word by
the SMS layer itself, anything else by the apps that subscribe to ``sms.signals.inbound_received``
(the surveys app reads ratings and follow-up answers)."""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.phones import normalize_phone, phone_hash

from .choices import InboundOutcome, OptOutSource
from .models import InboundSms
from .optouts import opt_out
from .signals import inbound_received

logger = logging.getLogger(__name__)

OPT_OUT_WORDS = {"TD", "T", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "N"}
_SEPARATORS = " \t\r\n,，.。、:：;；!！"


def is_opt_out(body: str) -> bool:
    """TD, STOP, 退订… (ASCII or full width, any case, with stray punctuation)."""
    text = unicodedata.normalize("NFKC", body or "").strip()
    return text.upper().strip(_SEPARATORS) in OPT_OUT_WORDS


def receive_inbound(
    *, provider: str, message_id: str, phone: str, body: str, received_at: dt.datetime | None = None
) -> tuple[InboundSms, bool]:
    """Store one inbound SMS (once per provider message id) and read it. Returns (row, created).

    The row is committed before it is read, so a failure while reading loses nothing: the sweeper
    reads rows left without an outcome.
    """
    try:
        e164 = normalize_phone(phone)
    except ValidationError:
        e164 = (phone or "").strip()[:32] or "unknown"
    try:
        with transaction.atomic():
            inbound = InboundSms.objects.create(
                provider=provider[:24],
                provider_message_id=message_id[:64],
                phone=e164,
                phone_hash=phone_hash(e164),
                body=(body or "")[:1600],
                received_at=received_at or timezone.now(),
            )
    except IntegrityError:
        return InboundSms.objects.get(provider=provider[:24], provider_message_id=message_id[:64]), False
    try:
        read_inbound(inbound.pk)
    except Exception:
        logger.exception("inbound SMS %s could not be read now; left for the sweeper", inbound.pk)
    inbound.refresh_from_db()
    return inbound, True


def read_inbound(inbound_id: int) -> str:
    """Turn a stored inbound SMS into an opt-out or hand it to the subscribers of
    ``inbound_received``. Reading the same row twice does nothing the second time."""
    with transaction.atomic():
        inbound = InboundSms.objects.select_for_update().get(pk=inbound_id)
        if inbound.outcome:
            return inbound.outcome
        if is_opt_out(inbound.body):
            opt_out(phone=inbound.phone, source=OptOutSource.SMS, inbound=inbound)
            outcome = InboundOutcome.OPT_OUT
        else:
            answers = [value for _receiver, value in inbound_received.send(sender=InboundSms, inbound=inbound)]
            outcome = next((value for value in answers if value), InboundOutcome.UNMATCHED)
        inbound.outcome = outcome
        inbound.save(update_fields=["outcome", "matched_sms"])
    return outcome


def read_pending_inbound(*, older_than_seconds: int = 60) -> int:
    """Read inbound SMS stored but not read (the reader failed or the process died)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(InboundSms.objects.filter(outcome="", received_at__lt=cutoff).values_list("pk", flat=True)[:200])
    for pk in ids:
        try:
            read_inbound(pk)
        except Exception:  # one bad row must not stop the others
            logger.exception("inbound SMS %s could not be read", pk)
    return len(ids)
