"""Celery tasks of the SMS layer: thin, take ids, call one function, own only the retry.

Their names are public (beat entries, the broker's messages, ``sms.wake``): renaming one needs a
data migration of the beat rows (see ``sms/migrations/0003_beat_task_names.py``).
"""

from __future__ import annotations

from celery import shared_task

from .choices import SmsStatus
from .inbound import read_pending_inbound
from .models import OutboundSms
from .outbox import run_sender, sweep
from .wake import start_senders


@shared_task(ignore_result=True)
def run_sms_sender_task(backend_name: str = "") -> dict:
    """Run one provider's sender loop: due rows at the bucket's pace, for up to
    SMS_SENDER_LOOP_SECONDS (a loop already running for that sender makes this a no-op)."""
    return run_sender(backend_name=backend_name)


@shared_task(ignore_result=True)
def send_sms_task(sms_id: int) -> str:
    """Kept for messages published before the sender loop: the row is not sent from here but by
    its provider's loop, whose window keeps every second at the provider within its rate; this
    only wakes the loops (a row no longer queued is left alone)."""
    if not OutboundSms.objects.filter(pk=sms_id, status=SmsStatus.QUEUED).exists():
        return "not_queued"
    start_senders()
    return "handed_to_sender_loop"


@shared_task(ignore_result=True)
def sweep_sms_task() -> dict:
    """Every minute: re-drive due queued SMS, requeue rows stuck in sending, ask the provider about
    ambiguous sends whose next check is due (backing off; parked ones are left alone), and read
    inbound SMS left unread."""
    counts = sweep()
    counts["inbound"] = read_pending_inbound()
    return counts
