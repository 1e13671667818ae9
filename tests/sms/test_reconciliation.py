"""Ambiguous sends (a timeout after the request went out) settled by asking the provider: taken
when it has the message, sent again only after it said "not there" several times, spaced out, and
parked for an administrator when it cannot tell us — against the fake Twilio and the real client."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from sms.choices import SmsPurpose, SmsStatus
from sms.models import OutboundSms, SmsAttempt
from sms.outbox import send_one, sweep
from sms.services import queue_sms
from units.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def checks(settings):
    settings.SMS_RECONCILE_NOT_FOUND_CHECKS = 3
    settings.SMS_RECONCILE_BASE_SECONDS = 60
    settings.SMS_RECONCILE_MAX_INTERVAL_SECONDS = 3600
    settings.SMS_RECONCILE_MAX_CHECKS = 6
    return settings


def _ambiguous(fake_twilio, settings) -> OutboundSms:
    """An SMS whose send timed out after Twilio stored it (the answer never arrived)."""
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    fake_twilio.hang_seconds = 1.5
    sms = queue_sms(
        phone="13800001234",
        template_code="appeal_closed",
        params={"code": "AB23CD45"},
        purpose=SmsPurpose.APPEAL_CLOSED,
    )
    assert send_one(sms.pk)[0] == "ambiguous"
    fake_twilio.hang_seconds = 0
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENDING
    return sms


def _reads(fake_twilio) -> int:
    return sum(1 for method, _path in fake_twilio.requests if method == "GET")


def test_it_sends_again_once_the_provider_said_three_times_it_does_not_have_the_sms(
    fake_twilio, always_open, checks, administrator
):
    sms = _ambiguous(fake_twilio, checks)
    fake_twilio.messages.clear()  # the provider has no record of it after all
    first = timezone.now() + dt.timedelta(minutes=10)
    with time_machine.travel(first, tick=False):
        assert sweep()["waiting"] == 1
        assert sweep()["waiting"] == 0  # not asked again before its time
    sms.refresh_from_db()
    assert (sms.status, sms.reconcile_checks, sms.reconcile_not_found) == (SmsStatus.SENDING, 1, 1)
    assert sms.next_reconcile_at == first + dt.timedelta(seconds=60)
    assert _reads(fake_twilio) == 1

    second = first + dt.timedelta(seconds=61)
    with time_machine.travel(second, tick=False):
        assert sweep()["waiting"] == 1
    sms.refresh_from_db()
    assert (sms.reconcile_checks, sms.reconcile_not_found) == (2, 2)
    assert sms.next_reconcile_at == second + dt.timedelta(seconds=120)  # backing off

    third = second + dt.timedelta(seconds=121)
    with time_machine.travel(third, tick=False):
        assert sweep()["resent"] == 1
        sms.refresh_from_db()
        assert sms.status == SmsStatus.QUEUED and not sms.needs_reconciliation
        assert sms.next_reconcile_at is None and sms.reconcile_parked_at is None
        assert send_one(sms.pk)[0] == "sent"
        assert send_one(sms.pk)[0] == "not_queued"
    assert len(fake_twilio.messages) == 1
    assert OutboundSms.objects.count() == 1  # the same row, the same message: no second one
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (SmsStatus.SENT, 2)
    assert sms.provider_sid == fake_twilio.messages[0]["sid"]
    assert list(SmsAttempt.objects.filter(sms=sms).values_list("number", flat=True)) == [1, 2]

    reads = _reads(fake_twilio)
    with time_machine.travel(third + dt.timedelta(hours=3), tick=False):
        sweep()
        sweep()
    assert _reads(fake_twilio) == reads and len(fake_twilio.messages) == 1
    assert not Notification.objects.filter(user=administrator).exists()


def test_it_takes_the_status_of_an_sms_the_provider_has_and_stops_asking(fake_twilio, always_open, checks):
    sms = _ambiguous(fake_twilio, checks)
    fake_twilio.set_status(fake_twilio.messages[0]["sid"], "delivered")
    later = timezone.now() + dt.timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        assert sweep()["reconciled"] == 1
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED and sms.delivered_at is not None
    assert sms.provider_sid == fake_twilio.messages[0]["sid"]
    assert (sms.reconcile_checks, sms.reconcile_not_found, sms.next_reconcile_at) == (1, 0, None)
    assert not sms.needs_reconciliation
    reads = _reads(fake_twilio)
    with time_machine.travel(later + dt.timedelta(hours=2), tick=False):
        assert sweep()["reconciled"] == 0
        sweep()
    assert _reads(fake_twilio) == reads
    assert len(fake_twilio.messages) == 1


def test_it_marks_failed_an_sms_the_provider_says_it_failed(fake_twilio, always_open, checks):
    sms = _ambiguous(fake_twilio, checks)
    fake_twilio.set_status(fake_twilio.messages[0]["sid"], "failed")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10), tick=False):
        assert sweep()["reconciled"] == 1
        assert sweep()["reconciled"] == 0
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED and sms.failed_at is not None
    assert len(fake_twilio.messages) == 1


def test_it_backs_off_and_parks_for_an_administrator_when_the_provider_cannot_answer(
    fake_twilio, always_open, checks, administrator
):
    from sms.services import requeue_sms

    sms = _ambiguous(fake_twilio, checks)
    fake_twilio.fail_reads = True
    moment = timezone.now() + dt.timedelta(minutes=10)
    waits = []
    for _ in range(checks.SMS_RECONCILE_MAX_CHECKS):
        with time_machine.travel(moment, tick=False):
            sweep()
        sms.refresh_from_db()
        if sms.next_reconcile_at is None:
            break
        waits.append((sms.next_reconcile_at - moment).total_seconds())
        moment = sms.next_reconcile_at + dt.timedelta(seconds=1)
    assert waits == [60, 120, 240, 480, 960]
    assert sms.reconcile_checks == 6 and sms.reconcile_not_found == 0
    assert sms.status == SmsStatus.SENDING and sms.needs_reconciliation
    assert sms.reconcile_parked_at is not None
    assert "核对" in sms.last_error
    assert Notification.objects.filter(user=administrator, text__contains="停止自动核对").count() == 1

    reads = _reads(fake_twilio)
    with time_machine.travel(moment + dt.timedelta(days=1), tick=False):
        assert sweep()["waiting"] == 0
    assert _reads(fake_twilio) == reads  # parked: no more polling
    assert Notification.objects.filter(user=administrator, text__contains="停止自动核对").count() == 1

    # The administrator checked with Twilio: it was not sent after all.
    fake_twilio.messages.clear()
    assert requeue_sms(sms, actor=administrator)
    assert not requeue_sms(sms, actor=administrator)
    sms.refresh_from_db()
    assert sms.reconcile_parked_at is None and sms.reconcile_checks == 0
    assert send_one(sms.pk)[0] == "sent"
    assert len(fake_twilio.messages) == 1


def _sweep_until_settled(start: dt.datetime, sms: OutboundSms, *, limit: int = 10) -> list[dict]:
    """Run the sweeper at each row's next check time until it stops asking; the sweeps' counts."""
    runs, moment = [], start
    for _ in range(limit):
        with time_machine.travel(moment, tick=False):
            runs.append(sweep())
        sms.refresh_from_db()
        if sms.next_reconcile_at is None:
            return runs
        moment = sms.next_reconcile_at + dt.timedelta(seconds=1)
    raise AssertionError("still asking the provider")


def test_it_fails_an_sms_the_provider_never_got_when_its_attempts_are_spent(
    fake_twilio, always_open, checks, administrator
):
    checks.SMS_MAX_ATTEMPTS = 1
    sms = _ambiguous(fake_twilio, checks)
    fake_twilio.messages.clear()
    runs = _sweep_until_settled(timezone.now() + dt.timedelta(minutes=10), sms)
    assert [r["failed"] for r in runs] == [0, 0, 1]
    assert sms.status == SmsStatus.FAILED and sms.reconcile_not_found == 3
    assert fake_twilio.messages == []
    assert Notification.objects.filter(user=administrator, text__contains="确认均未收到").count() == 1


def test_it_sends_again_with_the_outbox_backend_a_row_whose_worker_died_mid_call(always_open, checks, settings):
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    sms = queue_sms(
        phone="13800001235",
        template_code="appeal_closed",
        params={"code": "AB23CD46"},
        purpose=SmsPurpose.APPEAL_CLOSED,
    )
    # The worker claimed the row, committed its attempt and died inside the provider call.
    claimed_at = timezone.now() - dt.timedelta(minutes=10)
    OutboundSms.objects.filter(pk=sms.pk).update(status=SmsStatus.SENDING, claimed_at=claimed_at, attempts=1)
    SmsAttempt.objects.create(sms=sms, number=1, backend="outbox")
    runs = _sweep_until_settled(timezone.now(), sms)
    assert [r["resent"] for r in runs] == [0, 0, 1]
    assert sms.status == SmsStatus.QUEUED
    with time_machine.travel(sms.next_attempt_at, tick=False):
        assert send_one(sms.pk)[0] == "sent"
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.provider_sid) == (SmsStatus.DELIVERED, 2, f"OUTBOX{sms.pk:010d}")
