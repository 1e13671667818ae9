"""Waking the sender loops after commit. The row is the truth (ARCHITECTURE rules 1 and 4): a
wake-up lost to a broker outage only delays a message until the next sweep.

The tasks are looked up by name in Celery's registry (``sms.apps`` imports ``sms.tasks`` when
Django starts), so this module, the outbox and the tasks import one another in one direction only:
tasks → outbox → wake. ``tests/sms/test_schedule.py`` checks that every name here is registered.
"""

from __future__ import annotations

import datetime as dt
import functools

from celery import current_app
from django.conf import settings
from django.db import connection
from django.db.models.functions import Now
from django.utils import timezone

from units.enqueue import call_once_after_commit, send_task, send_task_after_commit

from .backends import BACKENDS, backend_class, get_backend
from .catalogue import template_provider
from .choices import SmsPurpose, SmsStatus
from .models import OutboundSms, SenderBucket, SmsTemplate

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


def provider_of(sms: OutboundSms) -> str:
    """The provider whose loop sends this row (as ``outbox.sender_rows`` routes it): an
    administrator's test keeps the one it names, any other row its template's own provider, else
    the deployment's."""
    default = backend_class(BACKENDS.get(settings.SMS_BACKEND) or settings.SMS_BACKEND).name  # no client built
    if sms.purpose == SmsPurpose.TEST and sms.backend:
        return sms.backend if sms.backend in BACKENDS else default
    own = template_provider(sms.template_code)
    return own if own in BACKENDS else default


def _lease_held(sender: str) -> bool:
    """Whether a loop of this sender holds its lease now (on the database's clock, as the loop
    writes it). Written-out SQL on PostgreSQL: the ORM's ``exists()`` cost several times the read."""
    if connection.vendor != "postgresql":
        return SenderBucket.objects.filter(sender=sender, loop_until__gt=Now()).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {SenderBucket._meta.db_table} WHERE sender = %s AND loop_until > now()", [sender]
        )
        return cursor.fetchone() is not None


def wake_sender(name: str) -> bool:
    """Start the loop of one provider unless it is running (its lease on the bucket row is held):
    one read of a one-row-per-sender table instead of a broker message per queued SMS. A loop
    that ends just as this reads its lease may miss a row committed meanwhile; the sweeper
    (every minute) starts the next loop for it. Returns whether a start was asked for."""
    try:
        sender = get_backend(name).sender()
    except Exception:  # noqa: BLE001 - a provider not configured here: its loop reports it
        sender = None
    if sender is not None and _lease_held(sender):
        return False
    delay(RUN_SENDER_TASK, name)
    return True


@functools.cache
def _waker(name: str):
    """One callable per provider, so a transaction that queues many rows wakes each loop once
    (``call_once_after_commit`` finds the same callable already pending)."""
    return functools.partial(wake_sender, name)


def enqueue_after_commit(sms: OutboundSms) -> None:
    """Wake the row's sender loop once the transaction commits, so a due row goes out within a
    second rather than at the next sweep. Rows due later (or a lost message) are picked up by the
    sweeper: the row, not the broker, is the truth. A batch of thousands of rows in one
    transaction wakes each loop once, not once per row."""
    if sms.send_after <= timezone.now() + dt.timedelta(minutes=1):
        call_once_after_commit(_waker(provider_of(sms)))


def sweep_after_commit() -> None:
    """Run the sweeper once the transaction commits (a batch queued for now, e.g. a daily run)."""
    send_task_after_commit(current_app.tasks[SWEEP_TASK], once=True)
