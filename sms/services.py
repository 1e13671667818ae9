"""The SMS layer's front door for other apps: queue a message for a purpose (and, for the
evaluation, the service record it asks about), put a phone on the opt-out list or take it off,
re-queue a message an administrator checked with the provider. See docs/sms.md.

A message is a template code plus parameters. Providers that take text get the rendered text;
template providers (Aliyun, Tencent) get the code and parameters. ``queue_sms`` writes the outbox
row (the truth) and wakes a sender after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from intake.phones import normalize_phone, phone_hash
from units.memo import ProcessCache

from . import permissions
from .catalogue import template_text, validate_params_for_provider
from .choices import NoticeStep, SmsPurpose
from .models import OptOut, OutboundSms, StepNotice
from .optouts import is_opted_out, opt_out
from .outbox import requeue_after_check
from .texts import render_text, segments_of
from .wake import enqueue_after_commit

__all__ = ["lift_opt_out", "notify_step", "opt_out", "queue_sms", "requeue_sms", "step_notice_on", "track_link"]

# Step → (template, purpose) of the SMS telling the citizen about that step of an appeal.
STEP_TEMPLATES = {
    NoticeStep.RECEIPT: ("appeal_received", SmsPurpose.APPEAL_RECEIVED),
    NoticeStep.DISPATCH: ("appeal_dispatched", SmsPurpose.APPEAL_DISPATCHED),
    NoticeStep.EXTENSION: ("appeal_extended", SmsPurpose.APPEAL_EXTENDED),
    NoticeStep.CLOSURE: ("appeal_closed", SmsPurpose.APPEAL_CLOSED),
}

logger = logging.getLogger(__name__)


def queue_sms(
    *,
    phone: str,
    template_code: str,
    params: dict[str, Any],
    purpose: str,
    dedupe_key: str | None = None,
    send_after: dt.datetime | None = None,
    service_record=None,
    new_key: bool = False,
):
    """Create the outbox row for one SMS and have it sent after commit, within sending hours.

    Idempotent on ``dedupe_key``: the same key returns the row made the first time and sends
    nothing more. ``new_key``: the caller knows no row can hold the key yet (it names something
    created in this transaction), so it is not looked up first; the unique key still guards. The phone is stored encrypted with its keyed hash; only the row id travels in
    the task. Raises ``ValidationError`` for an invalid phone or for parameters the template's
    provider would refuse, and ``TemplateMissing`` for an unknown template code.
    """
    if dedupe_key and not new_key:
        existing = OutboundSms.objects.filter(dedupe_key=dedupe_key).first()
        if existing:
            return existing
    e164 = normalize_phone(phone)
    template = template_text(template_code)
    text = render_text(template, params)
    # A template provider (Aliyun, Tencent) refuses values outside its rules: refuse them here,
    # before a row exists, rather than have the provider fail the send later.
    validate_params_for_provider(template_code=template_code, text=template, params=params or {})
    now = timezone.now()
    send_after = send_after or now
    sms = OutboundSms(
        phone=e164,
        phone_hash=phone_hash(e164),
        template_code=template_code,
        params={k: str(v) for k, v in (params or {}).items()},
        text=text,
        segments=segments_of(text),
        purpose=purpose if purpose in SmsPurpose.values else SmsPurpose.OTHER,
        dedupe_key=dedupe_key,
        send_after=send_after,
        enqueued_at=now if send_after <= now + dt.timedelta(minutes=1) else None,
        service_record=service_record,
    )
    try:
        with transaction.atomic():
            sms.save()
    except IntegrityError:
        if dedupe_key:
            return OutboundSms.objects.get(dedupe_key=dedupe_key)
        raise
    enqueue_after_commit(sms)
    return sms


def lift_opt_out(opt: OptOut, *, actor) -> None:
    """An administrator lifts an opt-out (the citizen asked to receive SMS again)."""
    if not permissions.may_manage_opt_outs(actor):
        raise PermissionDenied
    logger.info("opt-out %s lifted by user %s", opt.pk, actor.pk)
    opt.delete()


def requeue_sms(sms: OutboundSms, *, actor) -> bool:
    """After checking with the provider that a flagged SMS was not sent, queue it again
    (administrators; False when the message is not waiting for that check)."""
    if not permissions.may_requeue(actor):
        raise PermissionDenied
    done = requeue_after_check(sms)
    if done:
        sms.refresh_from_db()
        enqueue_after_commit(sms)
        logger.info("SMS %s re-queued after reconciliation by user %s", sms.pk, actor.pk)
    return done


def _step_switches() -> dict[str, dict[str, bool]]:
    return {
        notice.channel: {step: notice.sends(step) for step in NoticeStep.values} for notice in StepNotice.objects.all()
    }


# The switches of every channel, kept per process (every appeal received asks): a switch changed
# in the admin takes effect at once in that process and within seconds in every other one.
step_switches = ProcessCache("sms-step-notices", _step_switches).watch(StepNotice)
_DEFAULT_SWITCHES = {step: StepNotice(channel="").sends(step) for step in NoticeStep.values}


def step_notice_on(channel: str, step: str) -> bool:
    """Whether appeals of ``channel`` get the SMS of ``step`` (a channel without a row: the
    model's defaults — no receipt, the other steps on)."""
    return step_switches.get().get(channel, _DEFAULT_SWITCHES)[step]


def track_link() -> str:
    """The public tracking page: PUBLIC_BASE_URL + /track/, host-less when it is not set (the
    simulator shows it with the host the page was opened on)."""
    return (settings.PUBLIC_BASE_URL or "").rstrip("/") + "/track/"


def notify_step(
    *, appeal, step: str, params: dict[str, Any], dedupe_key: str, new_key: bool = False
) -> OutboundSms | None:
    """Queue the SMS telling the citizen of ``appeal`` about ``step``; None when nothing is queued.

    Nothing when the channel's switch for the step is off or its platform informs the citizen,
    when the appeal has no phone, or when the phone is on the opt-out list. Idempotent on
    ``dedupe_key`` (the caller names the step's occurrence; ``new_key`` as in ``queue_sms``). A
    refused SMS (a template an administrator broke) never undoes the step it tells of: the
    refusals come before any write, and the insert has its own savepoint.
    """
    phone = appeal.citizen_phone
    if not phone or not step_notice_on(appeal.channel, step):
        return None
    if is_opted_out(appeal.citizen_phone_hash or phone_hash(normalize_phone(phone))):
        return None
    template_code, purpose = STEP_TEMPLATES[step]
    try:
        return queue_sms(
            phone=phone,
            template_code=template_code,
            params=params,
            purpose=purpose,
            dedupe_key=dedupe_key,
            new_key=new_key,
        )
    except (ValidationError, LookupError):
        logger.warning("step SMS %s of appeal %s not queued", step, appeal.pk, exc_info=True)
        return None


def notify_receipt(appeal) -> OutboundSms | None:
    """受理短信: the tracking code and where to follow the appeal."""
    return notify_step(
        appeal=appeal,
        step=NoticeStep.RECEIPT,
        params={"code": appeal.tracking_code, "link": track_link()},
        dedupe_key=f"appeal-received:{appeal.pk}",
        new_key=True,  # the appeal was inserted just now
    )
