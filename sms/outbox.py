"""The sending engine: token-bucket pacing, claiming outbox rows, calling the provider outside any
transaction, recording every attempt, delivery statuses that only move forward, the sweeper and
reconciliation of rows a dead worker left in ``sending``.

No citizen gets the same SMS twice: a row is sent only by the worker whose conditional UPDATE
moved it from ``queued`` to ``sending``; an attempt row is committed before the provider call, so
a row found stuck in ``sending`` with a started attempt is reconciled with the provider, and
queued again only once the provider has said, several times and spaced out, that it does not have
it; one stuck without an attempt never reached the provider and is safely queued again.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import queue
import threading
import time
from collections import Counter, deque

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .backends import (
    AmbiguousError,
    BaseBackend,
    OutgoingMessage,
    PermanentError,
    ProviderResult,
    TransientError,
    get_backend,
    twilio_status,
)
from .catalogue import backend_for_template
from .choices import AttemptOutcome, OptOutSource, SmsPurpose, SmsStatus
from .models import DeliveryStatusEvent, OutboundSms, SenderBucket, SmsAttempt, SmsTemplate
from .optouts import opt_out
from .texts import in_sending_hours, next_sending_time
from .wake import enqueue_after_commit, start_senders

logger = logging.getLogger(__name__)


def alert_admins(*, text: str, dedupe_key: str) -> None:
    """Tell the administrators once about an SMS that needs a person (parked or unconfirmed)."""
    from units.roles import admins
    from units.services import notify

    try:
        from django.urls import reverse

        url = reverse("sms:outbox") + "?needs_reconciliation=true"
    except Exception:  # noqa: BLE001 - the URL is a convenience
        url = ""
    notify(
        users=admins(),
        text=text,
        url=url,
        dedupe_key=dedupe_key,
    )


# --- pacing ----------------------------------------------------------------------------------


def take_tokens(*, sender: str, segments: int, now: dt.datetime | None = None) -> float:
    """Take ``segments`` tokens from the sender's bucket; 0 when taken, else seconds to wait.

    The bucket refills at SMS_SEGMENTS_PER_SECOND up to SMS_BUCKET_SEGMENTS. It is a database
    row locked for the moment of the update, so workers on several machines share it.
    """
    now = now or timezone.now()
    rate = max(settings.SMS_SEGMENTS_PER_SECOND, 0.001)
    capacity = max(settings.SMS_BUCKET_SEGMENTS, segments)
    with transaction.atomic():
        try:
            with transaction.atomic():
                SenderBucket.objects.get_or_create(sender=sender, defaults={"tokens": capacity, "updated_at": now})
        except IntegrityError:
            pass
        bucket = SenderBucket.objects.select_for_update().get(sender=sender)
        elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
        tokens = min(capacity, bucket.tokens + elapsed * rate)
        if tokens >= segments:
            bucket.tokens, bucket.updated_at = tokens - segments, now
            bucket.save(update_fields=["tokens", "updated_at"])
            return 0.0
        bucket.tokens, bucket.updated_at = tokens, now
        bucket.save(update_fields=["tokens", "updated_at"])
        return (segments - tokens) / rate


def batch_fits_window(*, segments: int, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``segments`` can be sent between start and end at the configured rate."""
    seconds = max((end - start).total_seconds(), 0)
    return segments <= seconds * settings.SMS_SEGMENTS_PER_SECOND + settings.SMS_BUCKET_SEGMENTS


# --- sending one row -------------------------------------------------------------------------


# A new attempt (or an administrator's decision) starts the questions to the provider afresh.
_FRESH_RECONCILIATION = {
    "reconcile_checks": 0,
    "reconcile_not_found": 0,
    "next_reconcile_at": None,
    "reconcile_parked_at": None,
}
_RECONCILE_FIELDS = [*_FRESH_RECONCILIATION, "updated_at"]


def _message(sms: OutboundSms) -> OutgoingMessage:
    return OutgoingMessage(
        reference=sms.pk, to=sms.phone, text=sms.text, template_code=sms.template_code, params=sms.params
    )


def _retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(settings.SMS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), 3600))


def send_one(
    sms_id: int, *, backend: BaseBackend | None = None, respect_hours: bool = True, paced: bool = True
) -> tuple[str, float]:
    """Send one queued SMS if it is due. Returns (what happened, seconds to wait before retrying).

    Steps:
    1. read the row; do nothing unless it is queued and due;
    2. outside sending hours, move ``send_after`` to the next window and stop;
    3. take the segments from the sender's token bucket, or answer how long to wait;
    4. claim: UPDATE … SET status='sending' WHERE id=… AND status='queued' — only one worker wins;
    5. commit an attempt row (the trace that the provider may have been called);
    6. call the provider, outside any transaction;
    7. record the result: sent, queued again with back-off, failed, or left for reconciliation.

    ``respect_hours=False`` is only for the demo, which hands a batch to the simulator at any hour,
    and for an administrator's test message to their own phone; ``paced=False`` only for the
    simulator's "立即发送（演示）" (the outbox backend sends nothing out).
    """
    now = timezone.now()
    sms = OutboundSms.objects.filter(pk=sms_id, status=SmsStatus.QUEUED).first()
    if sms is None:
        return "not_queued", 0.0
    if respect_hours and (sms.send_after > now or sms.next_attempt_at > now):
        return "not_due", 0.0
    if respect_hours and not in_sending_hours(now):
        OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.QUEUED).update(send_after=next_sending_time(now))
        return "outside_hours", 0.0
    # Per template: a template approved only at another provider is sent through that one. An
    # administrator's test message keeps the provider it was made for (on a retry too).
    if backend is None and sms.purpose == SmsPurpose.TEST and sms.backend:
        backend = get_backend(sms.backend)
    backend = backend or backend_for_template(sms.template_code)
    wait = take_tokens(sender=backend.sender(), segments=sms.segments, now=now) if paced else 0.0
    if wait > 0:
        return "paced", wait
    claimed = OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.QUEUED).update(
        status=SmsStatus.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        backend=backend.name,
        needs_reconciliation=False,
        **_FRESH_RECONCILIATION,
    )
    if not claimed:
        return "claimed_elsewhere", 0.0
    return send_claimed(sms_id, claimed_at=now, backend=backend), 0.0


def send_claimed(
    sms_id: int, *, claimed_at: dt.datetime, backend: BaseBackend, window: ProviderWindow | None = None
) -> str:
    """Steps 5–7 of ``send_one`` for a row this worker claimed at ``claimed_at``: commit the
    attempt row, call the provider outside any transaction, record the result. ``window`` (the
    sender loop's pacing gate) lets the call through and is told the moment it has returned,
    before anything is recorded, whether it succeeded or raised."""
    with transaction.atomic():
        # Still ours? (The sweeper may have put back a claim that stalled for minutes.) The attempt
        # row is written under the row lock the sweeper also takes, so the two never cross.
        sms = (
            OutboundSms.objects.select_for_update()
            .filter(pk=sms_id, status=SmsStatus.SENDING, claimed_at=claimed_at)
            .first()
        )
        if sms is None:
            return "claimed_elsewhere"
        attempt = SmsAttempt.objects.create(sms=sms, number=sms.attempts, backend=backend.name)
    if window is not None:
        window.acquire(sms.segments)
    try:
        try:
            result = backend.send(_message(sms))
        finally:
            if window is not None:
                window.release(sms.segments)
    except TransientError as exc:
        return _record_transient(sms, attempt, exc)
    except PermanentError as exc:
        _record_permanent(sms, attempt, exc)
        return "failed"
    except AmbiguousError as exc:
        _record_ambiguous(sms, attempt, exc)
        return "ambiguous"
    except Exception as exc:
        logger.exception("SMS %s: unexpected provider error", sms.pk)
        _record_ambiguous(sms, attempt, AmbiguousError(str(exc)[:300], code=exc.__class__.__name__))
        return "ambiguous"
    record_accepted(sms_id=sms.pk, attempt_id=attempt.pk, result=result)
    return "sent"


# What accepting a message changes on its row (a full save would also rewrite, and encrypt again,
# the phone and every other column).
_ACCEPTED_FIELDS = [
    "provider_sid",
    "sent_at",
    "delivered_at",
    "failed_at",
    "status",
    "needs_reconciliation",
    "last_error",
    "updated_at",
]


def record_accepted(*, sms_id: int, attempt_id: int | None, result: ProviderResult) -> None:
    """The provider has the message: store its id, move the row forward, apply early callbacks.

    Committed without waiting for the disk (``synchronous_commit`` off for this transaction): the
    attempt row was committed durably before the call, so if the database lost this commit in a
    crash the row would be back in ``sending`` with a started attempt, and reconciliation would
    find the message at the provider — never send it again. One disk flush less per SMS."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":  # SQLite (make run's default) has no such setting
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        sms = OutboundSms.objects.select_for_update().get(pk=sms_id)
        sms.provider_sid = result.sid
        sms.sent_at = sms.sent_at or now
        sms.needs_reconciliation = False
        sms.last_error = ""
        _move_forward(sms, SmsStatus.SENT, now)
        if result.status != SmsStatus.SENT:
            _move_forward(sms, SmsStatus(result.status), now)
        sms.save(update_fields=_ACCEPTED_FIELDS)
        if attempt_id:
            SmsAttempt.objects.filter(pk=attempt_id).update(
                outcome=AttemptOutcome.ACCEPTED, provider_sid=result.sid, finished_at=now
            )
        # Status callbacks that arrived before we knew the provider's id.
        for event in DeliveryStatusEvent.objects.filter(provider_sid=result.sid, sms__isnull=True):
            event.sms = sms
            if event.status and _move_forward(sms, SmsStatus(event.status), event.received_at):
                event.applied = True
                sms.save(update_fields=_ACCEPTED_FIELDS)
            event.save(update_fields=["sms", "applied"])


def _record_transient(sms: OutboundSms, attempt: SmsAttempt, exc: TransientError) -> str:
    now = timezone.now()
    SmsAttempt.objects.filter(pk=attempt.pk).update(
        outcome=AttemptOutcome.TRANSIENT, error_code=exc.code[:32], error_message=str(exc)[:300], finished_at=now
    )
    if sms.attempts >= settings.SMS_MAX_ATTEMPTS:
        OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.SENDING).update(
            status=SmsStatus.FAILED, failed_at=now, last_error=str(exc)[:300]
        )
        logger.warning("SMS %s failed after %s attempts", sms.pk, sms.attempts)
        alert_admins(
            text=_("短信#%(id)s 重试%(n)d次仍未发出，已停止发送：%(e)s")
            % {"id": sms.pk, "n": sms.attempts, "e": str(exc)[:80]},
            dedupe_key=f"surveys:sms-parked:{sms.pk}",
        )
        return "failed"
    OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.SENDING).update(
        status=SmsStatus.QUEUED,
        # The provider said when (a daily limit: tomorrow), else back off.
        next_attempt_at=max(exc.retry_at, now) if exc.retry_at else now + _retry_delay(sms.attempts),
        enqueued_at=None,
        last_error=str(exc)[:300],
    )
    return "retry"


def _record_permanent(sms: OutboundSms, attempt: SmsAttempt, exc: PermanentError) -> None:
    now = timezone.now()
    SmsAttempt.objects.filter(pk=attempt.pk).update(
        outcome=AttemptOutcome.PERMANENT, error_code=exc.code[:32], error_message=str(exc)[:300], finished_at=now
    )
    OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.SENDING).update(
        status=SmsStatus.FAILED, failed_at=now, last_error=str(exc)[:300]
    )
    if exc.opt_out:
        # The provider will refuse this number every time (its blacklist, the citizen's TD at the
        # carrier): our opt-out list says so, and the other SMS queued to it are not sent.
        opt_out(phone=sms.phone, source=OptOutSource.PROVIDER, note=f"{exc.code} {exc}"[:200])
    if exc.alert:
        alert_admins(
            text=_("短信#%(id)s 被服务商拒绝（%(code)s）：%(e)s。同一模板的短信都会失败，请检查模板与签名。")
            % {"id": sms.pk, "code": exc.code, "e": str(exc)[:80]},
            dedupe_key=f"surveys:sms-refused:{exc.code}:{sms.template_code}",
        )


def _record_ambiguous(sms: OutboundSms, attempt: SmsAttempt, exc: AmbiguousError) -> None:
    SmsAttempt.objects.filter(pk=attempt.pk).update(
        outcome=AttemptOutcome.AMBIGUOUS,
        error_code=exc.code[:32],
        error_message=str(exc)[:300],
        finished_at=timezone.now(),
    )
    OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.SENDING).update(
        needs_reconciliation=True, last_error=str(exc)[:300]
    )


def _move_forward(sms: OutboundSms, status: SmsStatus, when: dt.datetime) -> bool:
    """Set a later status on the (locked) row; an earlier or equal one changes nothing."""
    if status.rank <= SmsStatus(sms.status).rank:
        return False
    sms.status = status
    if status == SmsStatus.SENT:
        sms.sent_at = sms.sent_at or when
    elif status == SmsStatus.DELIVERED:
        sms.delivered_at = when
    elif status in (SmsStatus.FAILED, SmsStatus.UNDELIVERED):
        sms.failed_at = when
    return True


# --- delivery statuses -----------------------------------------------------------------------


def apply_delivery_status(
    *, provider_sid: str, provider_status: str, error_code: str = "", status: str | None = None
) -> DeliveryStatusEvent:
    """Record a provider status report once and apply it if it moves the SMS forward.

    ``status`` is the SmsStatus the report means when the caller already knows it (Aliyun and
    Tencent report success as a flag); else it is read from a Twilio status name.
    """
    status = status if status is not None else (twilio_status(provider_status) or "")
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = DeliveryStatusEvent.objects.create(
                    provider_sid=provider_sid[:64],
                    provider_status=(provider_status or "")[:24],
                    status=status,
                    error_code=(error_code or "")[:32],
                    received_at=now,
                )
        except IntegrityError:
            return DeliveryStatusEvent.objects.get(provider_sid=provider_sid[:64], provider_status=provider_status[:24])
        sms = OutboundSms.objects.select_for_update().filter(provider_sid=provider_sid).first()
        if sms is None:
            return event  # applied when the sending worker records the provider's id
        event.sms = sms
        if status and _move_forward(sms, SmsStatus(status), now):
            if error_code:
                sms.last_error = f"{provider_status} {error_code}"[:300]
            sms.save()
            event.applied = True
        event.save(update_fields=["sms", "applied"])
    return event


# --- the sweeper and reconciliation ----------------------------------------------------------


def due_for_sending(now: dt.datetime | None = None):
    now = now or timezone.now()
    grace = now - dt.timedelta(seconds=120)
    return OutboundSms.objects.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=grace),
        status=SmsStatus.QUEUED,
        send_after__lte=now,
        next_attempt_at__lte=now,
    )


def sweep(*, now: dt.datetime | None = None, backend: BaseBackend | None = None) -> dict[str, int]:
    """Re-drive the outbox: enqueue due queued rows (their message may be lost), put back rows a
    dead worker claimed before calling the provider, and reconcile rows that may have been sent
    (each only when its next check is due: a parked row is not asked about again)."""
    now = now or timezone.now()
    counts = {"enqueued": 0, "requeued": 0, "reconciled": 0, "resent": 0, "waiting": 0, "parked": 0, "failed": 0}
    if in_sending_hours(now):
        # No more than a minute of sending per sweep: the rest waits for the next one.
        per_minute = max(int(settings.SMS_SEGMENTS_PER_SECOND * 60), 1)
        ids = list(due_for_sending(now).order_by("send_after", "id").values_list("pk", flat=True)[:per_minute])
        if ids:
            # The rows are not handed out one by one: the sender loop claims them at the bucket's
            # pace. The sweeper only (re)starts it; a loop already running keeps its lease.
            OutboundSms.objects.filter(pk__in=ids, status=SmsStatus.QUEUED).update(enqueued_at=now)
            counts["enqueued"] = len(ids)
        if (
            ids
            or OutboundSms.objects.filter(
                status=SmsStatus.QUEUED, send_after__lte=now, next_attempt_at__lte=now
            ).exists()
        ):
            start_senders()
    stale = now - dt.timedelta(seconds=settings.SMS_STUCK_SENDING_SECONDS)
    stuck = (
        OutboundSms.objects.filter(status=SmsStatus.SENDING, claimed_at__lt=stale, reconcile_parked_at__isnull=True)
        .filter(Q(next_reconcile_at__isnull=True) | Q(next_reconcile_at__lte=now))
        .order_by("claimed_at")[:50]
    )
    for sms in stuck:
        if _requeue_unattempted(sms):
            counts["requeued"] += 1
            continue
        outcome = reconcile(sms, backend=backend)
        if outcome in counts:
            counts[outcome] += 1
    return counts


def _requeue_unattempted(sms: OutboundSms) -> bool:
    """Put back a claim whose worker never started the provider call (no attempt row). Under the
    row lock, so a worker that was only slow cannot start its attempt at the same moment."""
    with transaction.atomic():
        row = (
            OutboundSms.objects.select_for_update()
            .filter(pk=sms.pk, status=SmsStatus.SENDING, claimed_at=sms.claimed_at)
            .first()
        )
        if row is None or SmsAttempt.objects.filter(sms=row, number=row.attempts).exists():
            return False
        OutboundSms.objects.filter(pk=row.pk).update(
            status=SmsStatus.QUEUED, enqueued_at=None, claimed_at=None, attempts=F("attempts") - 1
        )
    return True


def _reconcile_delay(checks: int) -> dt.timedelta:
    """Wait before the next question to the provider: doubling from SMS_RECONCILE_BASE_SECONDS."""
    seconds = settings.SMS_RECONCILE_BASE_SECONDS * 2 ** max(checks - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.SMS_RECONCILE_MAX_INTERVAL_SECONDS))


def _ask_provider(sms: OutboundSms, backend: BaseBackend) -> tuple[bool, ProviderResult | None]:
    """(did the provider answer for sure, the message if it has it). Outside any transaction."""
    try:
        if sms.provider_sid:
            # It took the message once (we have its id): an unknown status is no "not there".
            status = backend.fetch_status(sms.provider_sid)
            return bool(status), ProviderResult(sid=sms.provider_sid, status=status) if status else None
        since = (sms.claimed_at or sms.created_at) - dt.timedelta(minutes=1)
        return True, backend.find_sent(_message(sms), since=since)
    except Exception:  # noqa: BLE001 - the provider could not answer; ask again later
        logger.warning("SMS %s: the provider could not be asked, will ask again later", sms.pk)
        return False, None


def reconcile(sms: OutboundSms, *, backend: BaseBackend | None = None) -> str:
    """Ask the provider once about a row left in ``sending`` after a started attempt, and act only
    on a definitive answer. Returns "reconciled", "resent", "waiting", "parked", "failed" or
    "skipped" (another sweeper asked at the same time).

    Steps:
    1. ask outside any transaction: ``fetch_status`` by the provider's id when known, else
       ``find_sent`` by phone and text;
    2. lock the row and check it is still the claim we asked about, with the same number of checks;
    3. the provider has it → take its status (sent, delivered, failed …); no more checks;
    4. it said "not there" for the SMS_RECONCILE_NOT_FOUND_CHECKS-th time → the same row is queued
       again (its dedupe key and text unchanged; never a second row); failed instead when its
       attempts are spent;
    5. otherwise the next check waits a doubling interval; after SMS_RECONCILE_MAX_CHECKS checks
       the row is parked (no more polling), the reason in ``last_error``, administrators told.
    """
    # Asked of the provider that took the attempt, whatever the deployment's default is now.
    backend = backend or get_backend(sms.backend)
    answered, found = _ask_provider(sms, backend)
    now = timezone.now()
    with transaction.atomic():
        row = (
            OutboundSms.objects.select_for_update()
            .filter(
                pk=sms.pk,
                status=SmsStatus.SENDING,
                claimed_at=sms.claimed_at,
                reconcile_checks=sms.reconcile_checks,
                reconcile_parked_at__isnull=True,
            )
            .first()
        )
        if row is None:
            return "skipped"
        row.reconcile_checks += 1
        row.needs_reconciliation = True
        if found is not None:
            row.next_reconcile_at = None
            row.save(update_fields=[*_RECONCILE_FIELDS, "needs_reconciliation"])
            attempt = SmsAttempt.objects.filter(sms=row, number=row.attempts).first()
            record_accepted(sms_id=row.pk, attempt_id=attempt.pk if attempt else None, result=found)
            return "reconciled"
        if answered:
            row.reconcile_not_found += 1
        if answered and row.reconcile_not_found >= settings.SMS_RECONCILE_NOT_FOUND_CHECKS:
            outcome = _resend_not_found(row, now=now)
        elif row.reconcile_checks >= settings.SMS_RECONCILE_MAX_CHECKS:
            outcome = _park(row, now=now)
        else:
            row.next_reconcile_at = now + _reconcile_delay(row.reconcile_checks)
            row.save(update_fields=[*_RECONCILE_FIELDS, "needs_reconciliation"])
            outcome = "waiting"
    if outcome == "parked":
        alert_admins(
            text=_("短信#%(id)s 发送结果不明：%(reason)s") % {"id": row.pk, "reason": row.last_error},
            dedupe_key=f"surveys:sms-unconfirmed:{row.pk}:{row.attempts}",
        )
    elif outcome == "failed":
        alert_admins(
            text=_("短信#%(id)s 已尝试%(n)d次，服务商确认均未收到，已停止发送。") % {"id": row.pk, "n": row.attempts},
            dedupe_key=f"surveys:sms-parked:{row.pk}",
        )
    elif outcome == "resent":
        enqueue_after_commit(row)
    return outcome


def _resend_not_found(row: OutboundSms, *, now: dt.datetime) -> str:
    """The provider said often enough that it never got this SMS: queue the same row again (locked)."""
    note = _("服务商%(n)d次确认未收到此短信，已重新排队发送。") % {"n": row.reconcile_not_found}
    SmsAttempt.objects.filter(sms=row, number=row.attempts, outcome=AttemptOutcome.AMBIGUOUS).update(
        error_message=note[:300]
    )
    if row.attempts >= settings.SMS_MAX_ATTEMPTS:
        row.status, row.failed_at, row.needs_reconciliation = SmsStatus.FAILED, now, False
        row.next_reconcile_at, row.last_error = None, note[:300]
        row.save(update_fields=[*_RECONCILE_FIELDS, "status", "failed_at", "needs_reconciliation", "last_error"])
        logger.warning("SMS %s failed: not received by the provider after %s attempts", row.pk, row.attempts)
        return "failed"
    row.status, row.needs_reconciliation, row.last_error = SmsStatus.QUEUED, False, note[:300]
    row.enqueued_at, row.claimed_at, row.next_attempt_at = None, None, now
    for field, value in _FRESH_RECONCILIATION.items():
        setattr(row, field, value)
    row.save(
        update_fields=[
            *_RECONCILE_FIELDS,
            "status",
            "needs_reconciliation",
            "last_error",
            "enqueued_at",
            "claimed_at",
            "next_attempt_at",
        ]
    )
    logger.info("SMS %s: the provider does not have it; queued again", row.pk)
    return "resent"


def _park(row: OutboundSms, *, now: dt.datetime) -> str:
    """Stop asking the provider; the row waits for an administrator, who sees why."""
    row.reconcile_parked_at, row.next_reconcile_at = now, None
    row.last_error = (
        _(
            "向服务商核对%(n)d次（其中%(m)d次查无记录）仍无法确认是否收到，已停止自动核对，请人工核实后决定是否重新发送。"
        )
        % {"n": row.reconcile_checks, "m": row.reconcile_not_found}
    )[:300]
    row.save(update_fields=[*_RECONCILE_FIELDS, "needs_reconciliation", "last_error"])
    logger.warning("SMS %s: parked after %s reconciliation checks", row.pk, row.reconcile_checks)
    return "parked"


def requeue_after_check(sms: OutboundSms) -> bool:
    """An administrator checked with the provider that a flagged SMS was NOT sent: queue it again."""
    return bool(
        OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.SENDING, needs_reconciliation=True).update(
            status=SmsStatus.QUEUED,
            needs_reconciliation=False,
            enqueued_at=None,
            next_attempt_at=timezone.now(),
            **_FRESH_RECONCILIATION,
        )
    )


def paced_countdown(wait: float) -> int | None:
    """A short countdown for a paced send, or None to leave it to the sweeper (no long ETAs)."""
    return math.ceil(wait) if wait <= 30 else None


# --- the sender loop -------------------------------------------------------------------------
#
# One loop per sender claims as many due rows as the bucket allows within the next second
# (SELECT … FOR UPDATE SKIP LOCKED LIMIT n), gives each the moment its segments are paid for, and
# hands each to a sending thread at that moment: that schedule spreads the sends evenly over each
# second. What keeps every second at the provider within its rate is the ProviderWindow that each
# provider call passes, whatever the schedule, the threads or the network do.

CLAIM_HORIZON_SECONDS = 1.0
# A call counts against the provider's second until one second and this much after it returned
# (clock resolution, and the provider's clock and ours ticking a hair apart).
WINDOW_MARGIN_SECONDS = 0.005


def _pacing_rate() -> float:
    """Segments per second the loop's schedule hands out: the provider's rate less a small
    headroom, so that the window below rarely has to hold a call back."""
    rate = settings.SMS_SEGMENTS_PER_SECOND * (1 - settings.SMS_PACING_HEADROOM)
    return max(rate, 0.001)


class ProviderWindow:
    """The gate of the provider calls: no one-second window at the provider holds more than
    ``limit`` segments (the provider's allowed rate, rounded down; a batch of n messages would
    count n), whatever the scheduler does to the sending threads.

    A call counts from the moment the gate lets it through until one second (plus
    WINDOW_MARGIN_SECONDS) after it has returned, successful or not; a call is let through only
    while the calls that count, itself included, hold at most ``limit`` segments (a message
    longer than ``limit`` goes alone).

    Why this holds by construction: the provider receives a call at some moment between the gate
    letting it through and the call returning. Suppose it received more than ``limit`` segments
    within one second [a, a + 1), and let Y be the one among them let through last, at g: Y arrived
    before a + 1, so g < a + 1. Every other call Z among them was let through before g, and
    returned after it arrived, so after a > g − 1: at g, Z was still in flight or had returned less
    than one second earlier — it counted. So at g they all counted, more than ``limit``, and the
    gate would not have let Y through. A thread descheduled between the gate and the socket only
    makes its call arrive later, while it still counts; a slow answer only holds its place longer.

    The calls still counting when a loop ends are stored on the sender's bucket row
    (``recent_sends``, in the database's clock) and the next loop, on any host, starts from them.
    """

    def __init__(self, limit: float) -> None:
        self.limit = max(math.floor(limit + 1e-9), 1)
        self.span = 1.0 + WINDOW_MARGIN_SECONDS
        self.condition = threading.Condition()
        self.in_flight = 0
        self.counted = 0
        self.returned: deque[tuple[float, int]] = deque()  # (monotonic end of its count, segments)

    def _expire(self, now: float) -> None:
        while self.returned and self.returned[0][0] <= now:
            self.counted -= self.returned.popleft()[1]

    def acquire(self, segments: int) -> None:
        """Wait until a call of ``segments`` fits in the window, then count it as in flight."""
        with self.condition:
            while True:
                now = time.monotonic()
                self._expire(now)
                busy = self.in_flight + self.counted
                if busy + segments <= self.limit or busy == 0:
                    self.in_flight += segments
                    return
                # Woken by a call that returns (it may free room later) or when the oldest expires.
                self.condition.wait(self.returned[0][0] - now if self.returned else None)

    def release(self, segments: int) -> None:
        """The call has returned (or raised): it counts one more second from now."""
        with self.condition:
            self.in_flight -= segments
            self.returned.append((time.monotonic() + self.span, segments))
            self.counted += segments
            self.condition.notify_all()

    def restore(self, entries: list, *, db_time: float, mono: float) -> None:
        """Take over the counting calls a previous loop stored: ``[[database Unix time, segments]]``,
        read against a database clock reading ``db_time`` taken no later than monotonic ``mono``."""
        with self.condition:
            for end, segments in sorted((float(e), int(n)) for e, n in entries):
                at = mono + (end - db_time)
                if at > time.monotonic():
                    self.returned.append((at, segments))
                    self.counted += segments

    def still_counting(self, *, db_time: float, mono: float) -> list[list[float]]:
        """What to store for the next loop, against a database clock reading ``db_time`` taken no
        earlier than monotonic ``mono`` (so every end is stored late rather than early)."""
        with self.condition:
            self._expire(time.monotonic())
            entries = [[db_time + (end - mono), segments] for end, segments in self.returned]
            if self.in_flight:  # only if a thread could not be joined: counted a full second on
                entries.append([db_time + (time.monotonic() + self.span - mono), self.in_flight])
            return entries


def _db_now() -> dt.datetime:
    # One clock for every host that shares the bucket (and not the test's frozen clock).
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _db_clock() -> tuple[float, float, float]:
    """(monotonic time before, the database clock as a Unix time, monotonic time after) of one
    reading of the database clock, the one clock that every host sharing a sender agrees on."""
    before = time.monotonic()
    db_time = _db_now().timestamp()
    return before, db_time, time.monotonic()


def sender_rows(*, backend_name: str, default_name: str, now: dt.datetime):
    """Queued rows due at ``now`` that go through ``backend_name``: a template's own provider
    when it has one, else the deployment's; an administrator's test keeps the provider it names."""
    routed = dict(SmsTemplate.objects.exclude(provider="").values_list("code", "provider"))
    rows = OutboundSms.objects.filter(status=SmsStatus.QUEUED, send_after__lte=now, next_attempt_at__lte=now)
    tests = Q(purpose=SmsPurpose.TEST, backend=backend_name)
    if backend_name == default_name:
        normal = ~Q(template_code__in=[code for code, name in routed.items() if name != default_name])
    else:
        normal = Q(template_code__in=[code for code, name in routed.items() if name == backend_name])
    return rows.filter(tests | (~Q(purpose=SmsPurpose.TEST) & normal))


def claim_batch(
    *,
    sender: str,
    backend_name: str,
    default_name: str,
    now: dt.datetime,
    due_at: dt.datetime,
    rate: float,
    horizon: float = CLAIM_HORIZON_SECONDS,
) -> tuple[list[tuple[int, float]], float | None]:
    """Claim the rows the bucket can pay for within ``horizon`` seconds, in one transaction.

    Returns ([(sms id, seconds after ``now`` when it may go)], None), or ([], seconds to wait)
    when the bucket is empty, or ([], None) when nothing is due. The bucket's tokens go negative
    by what is reserved, so the next claim (by this loop or another host's) continues the same
    schedule.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                SenderBucket.objects.get_or_create(sender=sender, defaults={"tokens": 1, "updated_at": now})
        except IntegrityError:
            pass
        bucket = SenderBucket.objects.select_for_update().get(sender=sender)
        elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
        tokens = min(bucket.tokens + elapsed * rate, 1.0)
        room = tokens + rate * horizon
        if room < 1:
            return [], (1 - room) / rate
        candidates = list(
            sender_rows(backend_name=backend_name, default_name=default_name, now=due_at)
            .order_by("send_after", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", "segments")[: int(room)]
        )
        if not candidates:
            return [], None
        schedule: list[tuple[int, float]] = []
        for pk, segments in candidates:
            if segments > room and schedule:
                break
            room -= segments
            tokens -= segments
            schedule.append((pk, max(-tokens, 0.0) / rate))
        OutboundSms.objects.filter(pk__in=[pk for pk, _at in schedule], status=SmsStatus.QUEUED).update(
            status=SmsStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            backend=backend_name,
            needs_reconciliation=False,
            **_FRESH_RECONCILIATION,
        )
        bucket.tokens, bucket.updated_at = tokens, now
        bucket.save(update_fields=["tokens", "updated_at"])
    return schedule, None


class _Senders:
    """Threads that call the provider, so that its latency does not slow the pace (several calls
    may be in flight, as many as the window allows). Each thread has its own database connection,
    closed when the loop ends. With ``threads=0`` (inside a transaction, as in tests) the calls are
    made inline. Every call passes the provider window."""

    def __init__(self, make_backend, threads: int, window: ProviderWindow) -> None:
        self.make_backend, self.outcomes, self.lock = make_backend, Counter(), threading.Lock()
        self.window = window
        self.queue: queue.Queue = queue.Queue()
        self.inline = make_backend() if threads == 0 else None
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def _send(self, backend, sms_id: int, claimed_at: dt.datetime) -> None:
        try:
            outcome = send_claimed(sms_id, claimed_at=claimed_at, backend=backend, window=self.window)
        except Exception:
            logger.exception("SMS %s: the sending thread failed; the sweeper will put it back", sms_id)
            outcome = "error"
        with self.lock:
            self.outcomes[outcome] += 1

    def _work(self) -> None:
        backend = self.make_backend()
        try:
            while (item := self.queue.get()) is not None:
                self._send(backend, *item)
        finally:
            connection.close()

    def put(self, sms_id: int, claimed_at: dt.datetime) -> None:
        if self.inline is not None:
            self._send(self.inline, sms_id, claimed_at)
        else:
            self.queue.put((sms_id, claimed_at))

    def backlog(self) -> int:
        """Rows handed over that no thread has taken yet (all threads waiting at the window)."""
        return self.queue.qsize()

    def close(self) -> Counter:
        for _thread in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()
        return self.outcomes


def _take_lease(sender: str, *, now: dt.datetime, seconds: float) -> bool:
    try:
        with transaction.atomic():
            SenderBucket.objects.get_or_create(sender=sender, defaults={"tokens": 1, "updated_at": now})
    except IntegrityError:
        pass
    return bool(
        SenderBucket.objects.filter(sender=sender)
        .filter(Q(loop_until__isnull=True) | Q(loop_until__lt=now))
        .update(loop_until=now + dt.timedelta(seconds=seconds))
    )


def run_sender(
    *,
    backend_name: str = "",
    backend: BaseBackend | None = None,
    max_seconds: float | None = None,
    threads: int | None = None,
) -> dict[str, int]:
    """Send the due rows of one provider at its pace until none is due, the sending hours end or
    ``max_seconds`` (SMS_SENDER_LOOP_SECONDS) pass; the sweeper starts the next loop.

    Only one loop runs per sender (a lease on its bucket row); another started meanwhile returns
    at once with {"lease_held": 1}. Returns the outcome counts ("sent", "retry", …).
    """
    backend = backend or get_backend(backend_name)
    name, sender = backend.name, backend.sender()
    default_name = get_backend("").name
    max_seconds = settings.SMS_SENDER_LOOP_SECONDS if max_seconds is None else max_seconds
    if threads is None:
        threads = 0 if connection.in_atomic_block else settings.SMS_SENDER_THREADS
    rate = _pacing_rate()
    db_start, mono_start = _db_now(), time.monotonic()
    if not _take_lease(sender, now=db_start, seconds=max_seconds + 60):
        return {"lease_held": 1}

    def clock() -> dt.datetime:
        return db_start + dt.timedelta(seconds=time.monotonic() - mono_start)

    window = ProviderWindow(settings.SMS_SEGMENTS_PER_SECOND)
    senders = _Senders((lambda: backend) if threads == 0 else (lambda: get_backend(name)), threads, window)
    try:
        # The previous loop's calls that still count in the provider's second.
        stored = SenderBucket.objects.filter(sender=sender).values_list("recent_sends", flat=True).first()
        if stored:
            _before, db_time, after = _db_clock()
            window.restore(stored, db_time=db_time, mono=after)
        while time.monotonic() - mono_start < max_seconds and in_sending_hours(timezone.now()):
            if senders.backlog() > max(rate, 1):
                # The window holds the calls back (slow answers): claim no further ahead of them.
                time.sleep(0.05)
                continue
            now = clock()
            batch, wait = claim_batch(
                sender=sender,
                backend_name=name,
                default_name=default_name,
                now=now,
                due_at=timezone.now(),
                rate=rate,
            )
            if not batch and wait is None:
                break
            if not batch:
                time.sleep(wait)
                continue
            base = mono_start + (now - db_start).total_seconds()
            for sms_id, offset in batch:
                delay = base + offset - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                senders.put(sms_id, now)
    finally:
        outcomes = senders.close()
        before, db_time, _after = _db_clock()
        SenderBucket.objects.filter(sender=sender).update(
            loop_until=None, recent_sends=window.still_counting(db_time=db_time, mono=before)
        )
    return dict(outcomes)
