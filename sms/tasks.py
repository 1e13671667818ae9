"""Celery tasks of the SMS layer: thin, take ids, call one function, own only the retry.

Their names are public (beat entries, the broker's messages, ``sms.wake``): renaming one needs a
data migration of the beat rows (see ``sms/migrations/0003_beat_task_names.py``).
"""

from __future__ import annotations

from celery import shared_task

from .inbound import read_pending_inbound
from .outbox import run_sender, send_one, sweep
from .wake import start_senders


@shared_task(ignore_result=True)
def run_sms_sender_task(backend_name: str = "") -> dict:
    """Run one provider's sender loop: due rows at the bucket's pace, for up to
    SMS_SENDER_LOOP_SECONDS (a loop already running for that sender makes this a no-op)."""
    return run_sender(backend_name=backend_name)


@shared_task(ignore_result=True)
def send_sms_task(sms_id: int) -> str:
    """Send one outbox row if it is still queued and due (a duplicate message does nothing).
    Kept for messages published before the sender loop; a paced row is left to the loop."""
    outcome, _wait = send_one(sms_id)
    if outcome == "paced":
        start_senders()
    return outcome


@shared_task(ignore_result=True)
def sweep_sms_task() -> dict:
    """Every minute: re-drive due queued SMS, requeue rows stuck in sending, ask the provider about
    ambiguous sends whose next check is due (backing off; parked ones are left alone), and read
    inbound SMS left unread."""
    counts = sweep()
    counts["inbound"] = read_pending_inbound()
    return counts
