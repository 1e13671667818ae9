"""Waking the sender loops after commit. The row is the truth (ARCHITECTURE rules 1 and 4): a
wake-up lost to a broker outage only delays a message until the next sweep.

The tasks are looked up by name in Celery's registry (``sms.apps`` imports ``sms.tasks`` when
Django starts), so this module, the outbox and the tasks import one another in one direction only:
tasks → outbox → wake. ``tests/sms/test_schedule.py`` checks that every name here is registered.
"""

from __future__ import annotations

import datetime as dt

from celery import current_app
from django.utils import timezone

from units.enqueue import call_once_after_commit, send_task, send_task_after_commit

from .backends import BACKENDS, get_backend
from .choices import SmsPurpose, SmsStatus
from .models import OutboundSms, SmsTemplate

RUN_SENDER_TASK = "sms.tasks.run_sms_sender_task"
SWEEP_TASK = "sms.tasks.sweep_sms_task"
TASK_NAMES = (RUN_SENDER_TASK, SWEEP_TASK)


def delay(task_name: str, *args) -> None:
    """Publish one task; a broker that is down must not break the caller (the sweeper re-drives)."""
    send_task(current_app.tasks[task_name], *args)


def start_senders() -> None:
    """Ask the sms queue to run the loop of every provider in use (one each; a running loop's
    lease makes the extra start a no-op). Never fails the caller: the sweeper tries again."""
    names = {get_backend("").name}
    names |= set(SmsTemplate.objects.exclude(provider="").values_list("provider", flat=True).distinct())
    names |= set(
        OutboundSms.objects.filter(status=SmsStatus.QUEUED, purpose=SmsPurpose.TEST)
        .exclude(backend="")
        .values_list("backend", flat=True)
        .distinct()
    )
    for name in sorted(n for n in names if n in BACKENDS or n == get_backend("").name):
        delay(RUN_SENDER_TASK, name)


def enqueue_after_commit(sms: OutboundSms) -> None:
    """Wake the sender loop once the transaction commits, so a due row goes out within a second
    rather than at the next sweep. Rows due later (or a lost message) are picked up by the
    sweeper: the row, not the broker, is the truth. A batch of thousands of rows in one
    transaction wakes the loop once, not once per row."""
    if sms.send_after <= timezone.now() + dt.timedelta(minutes=1):
        call_once_after_commit(start_senders)


def sweep_after_commit() -> None:
    """Run the sweeper once the transaction commits (a batch queued for now, e.g. a daily run)."""
    send_task_after_commit(current_app.tasks[SWEEP_TASK], once=True)
