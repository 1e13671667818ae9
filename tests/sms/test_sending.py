"""The sending engine against a fake Twilio on loopback, driven by the real twilio client."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as settings_module
from django.utils import timezone

from sms.choices import AttemptOutcome, SmsPurpose, SmsStatus
from sms.models import DeliveryStatusEvent, OutboundSms, SmsAttempt
from sms.outbox import apply_delivery_status, send_one, sweep
from sms.services import queue_sms

from .fake_twilio import MESSAGING_SERVICE_SID

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _queue(phone="13800001234", key=None):
    return queue_sms(
        phone=phone,
        template_code="appeal_closed",
        params={"code": "AB23CD45"},
        purpose=SmsPurpose.APPEAL_CLOSED,
        dedupe_key=key,
    )


def test_it_sends_a_queued_sms_through_twilio_exactly_once(fake_twilio, always_open):
    sms = _queue()
    assert send_one(sms.pk) == ("sent", 0.0)
    assert send_one(sms.pk) == ("not_queued", 0.0)
    assert len(fake_twilio.messages) == 1
    sent = fake_twilio.messages[0]
    assert sent["to"] == "+8613800001234"
    assert sent["messaging_service_sid"] == MESSAGING_SERVICE_SID
    assert sent["body"] == sms.text
    assert sent["status_callback"] == "https://oc.example.org/sms/twilio/status/"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT
    assert sms.provider_sid == sent["sid"]
    attempt = SmsAttempt.objects.get(sms=sms)
    assert (attempt.outcome, attempt.provider_sid) == (AttemptOutcome.ACCEPTED, sent["sid"])


def test_it_does_not_send_twice_when_a_worker_dies_between_claim_and_send(fake_twilio, always_open):
    sms = _queue()
    # A worker claimed the row and died before calling the provider (no attempt row).
    claimed_at = timezone.now() - dt.timedelta(minutes=10)
    OutboundSms.objects.filter(pk=sms.pk).update(status=SmsStatus.SENDING, claimed_at=claimed_at, attempts=1)
    # The broker redelivers the task (acks_late): the row is not queued, nothing is sent.
    assert send_one(sms.pk)[0] == "not_queued"
    assert fake_twilio.messages == []
    # The sweeper sees that no attempt started and queues it again; it is then sent once.
    assert sweep()["requeued"] == 1
    assert sweep()["requeued"] == 0
    assert send_one(sms.pk)[0] == "sent"
    assert send_one(sms.pk)[0] == "not_queued"
    sweep()
    assert len(fake_twilio.messages) == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (SmsStatus.SENT, 1)


def test_it_reconciles_with_the_provider_instead_of_resending_after_a_timeout(fake_twilio, always_open, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    fake_twilio.hang_seconds = 1.5  # Twilio takes the message but the answer never arrives in time
    sms = _queue()
    assert send_one(sms.pk)[0] == "ambiguous"
    fake_twilio.hang_seconds = 0
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENDING and sms.needs_reconciliation
    assert send_one(sms.pk)[0] == "not_queued"
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10), tick=False):
        assert sweep()["reconciled"] == 1
        sweep()
    assert len(fake_twilio.messages) == 1
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT
    assert sms.provider_sid == fake_twilio.messages[0]["sid"]
    assert not sms.needs_reconciliation


def test_it_retries_a_transient_error_with_back_off(fake_twilio, always_open):
    fake_twilio.fail_with = [(503, 20500)]
    sms = _queue()
    assert send_one(sms.pk)[0] == "retry"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.QUEUED and sms.attempts == 1
    assert sms.next_attempt_at > timezone.now()
    assert send_one(sms.pk)[0] == "not_due"
    with time_machine.travel(sms.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert send_one(sms.pk)[0] == "sent"
    assert len(fake_twilio.messages) == 1
    outcomes = list(SmsAttempt.objects.filter(sms=sms).values_list("outcome", flat=True))
    assert outcomes == [AttemptOutcome.TRANSIENT, AttemptOutcome.ACCEPTED]


def test_it_marks_a_permanent_error_failed(fake_twilio, always_open):
    fake_twilio.fail_with = [(400, 21211)]
    sms = _queue()
    assert send_one(sms.pk)[0] == "failed"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED
    assert SmsAttempt.objects.get(sms=sms).error_code == "21211"
    assert send_one(sms.pk)[0] == "not_queued"


def test_it_gives_up_after_the_maximum_number_of_attempts(fake_twilio, always_open, settings, administrator):
    from units.models import Notification

    settings.SMS_MAX_ATTEMPTS = 2
    fake_twilio.fail_with = [(503, 20500), (503, 20500)]
    sms = _queue()
    assert send_one(sms.pk)[0] == "retry"
    sms.refresh_from_db()
    with time_machine.travel(sms.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert send_one(sms.pk)[0] == "failed"
    assert fake_twilio.messages == []
    assert Notification.objects.filter(user=administrator, text__contains="已停止发送").count() == 1


def test_it_sends_nothing_outside_sending_hours(fake_twilio):
    evening = dt.datetime(2026, 11, 20, 21, 0, tzinfo=SHANGHAI)
    with time_machine.travel(evening, tick=False):
        sms = _queue()
        assert send_one(sms.pk)[0] == "outside_hours"
        assert sweep()["enqueued"] == 0
    assert fake_twilio.messages == []
    sms.refresh_from_db()
    assert sms.status == SmsStatus.QUEUED
    assert sms.send_after == dt.datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(dt.datetime(2026, 11, 21, 8, 59, tzinfo=SHANGHAI), tick=False):
        assert send_one(sms.pk)[0] == "not_due"
    with time_machine.travel(dt.datetime(2026, 11, 21, 9, 0, 5, tzinfo=SHANGHAI), tick=False):
        assert send_one(sms.pk)[0] == "sent"
    assert len(fake_twilio.messages) == 1


def test_it_paces_by_segments_with_a_token_bucket(fake_twilio, always_open, settings):
    settings.SMS_SEGMENTS_PER_SECOND = 1
    settings.SMS_BUCKET_SEGMENTS = 2
    moment = timezone.now()
    rows = [_queue(phone=f"1380000{i:04d}") for i in range(3)]
    with time_machine.travel(moment + dt.timedelta(seconds=5), tick=False):
        assert send_one(rows[0].pk)[0] == "sent"
        assert send_one(rows[1].pk)[0] == "sent"
        outcome, wait = send_one(rows[2].pk)
        assert outcome == "paced" and 0 < wait <= 1
    with time_machine.travel(moment + dt.timedelta(seconds=6), tick=False):
        assert send_one(rows[2].pk)[0] == "sent"
    assert len(fake_twilio.messages) == 3


def test_it_applies_delivery_statuses_only_forward_and_once(fake_twilio, always_open):
    sms = _queue()
    send_one(sms.pk)
    sid = fake_twilio.messages[0]["sid"]
    apply_delivery_status(provider_sid=sid, provider_status="delivered")
    apply_delivery_status(provider_sid=sid, provider_status="delivered")
    apply_delivery_status(provider_sid=sid, provider_status="sent")  # late and out of order
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED
    assert DeliveryStatusEvent.objects.filter(provider_sid=sid).count() == 2
    assert DeliveryStatusEvent.objects.get(provider_sid=sid, provider_status="sent").applied is False


def test_it_applies_a_status_that_arrived_before_the_provider_id_was_stored(always_open):
    from sms.backends import ProviderResult
    from sms.outbox import record_accepted

    sms = _queue()
    apply_delivery_status(provider_sid="SMearly", provider_status="delivered")
    OutboundSms.objects.filter(pk=sms.pk).update(status=SmsStatus.SENDING)
    record_accepted(sms_id=sms.pk, attempt_id=None, result=ProviderResult(sid="SMearly", status="sent"))
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED


def test_it_sends_a_row_whose_broker_message_was_lost_from_the_sweeper(always_open, celery_eager):
    # The row exists but its message never reached a worker (Redis emptied, broker down).
    sms = _queue()
    OutboundSms.objects.filter(pk=sms.pk).update(enqueued_at=timezone.now() - dt.timedelta(minutes=5))
    assert sweep()["enqueued"] == 1
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED  # the outbox backend delivers at once
    assert sweep()["enqueued"] == 0


@pytest.mark.skipif(not settings_module.REDIS_URL, reason="needs the Redis broker")
def test_it_loses_nothing_when_redis_is_emptied_while_a_batch_is_sent(
    make_record, always_open, django_capture_on_commit_callbacks, celery_eager
):
    import redis
    from celery import current_app

    from surveys.services.records import run_evaluation

    for i in range(5):
        make_record(phone=f"1380000{i:04d}")
    current_app.conf.task_always_eager = False  # the batch goes to the real broker…
    with django_capture_on_commit_callbacks(execute=True):
        run_evaluation()
    redis.Redis.from_url(settings_module.CELERY_BROKER_URL).flushdb()  # …which then loses everything
    current_app.conf.task_always_eager = True
    assert OutboundSms.objects.filter(status=SmsStatus.QUEUED).count() == 5
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3), tick=False):
        assert sweep()["enqueued"] == 5
        assert sweep()["enqueued"] == 0
    assert OutboundSms.objects.filter(status=SmsStatus.DELIVERED).count() == 5
    assert SmsAttempt.objects.count() == 5  # each sent once


def test_it_does_not_send_a_queued_evaluation_to_a_phone_that_opts_out(always_open, make_record, city):
    from sms.inbound import receive_inbound
    from surveys.services.records import run_evaluation

    make_record()
    run_evaluation()
    sms = OutboundSms.objects.get()
    receive_inbound(provider="simulator", message_id="SIM-TD", phone="13800001234", body="TD")
    assert send_one(sms.pk)[0] == "not_queued"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.FAILED and sms.last_error == "号码已退订"


def test_it_reports_a_refused_connection_as_transient(fake_twilio, always_open, settings):
    fake_twilio.stop()  # nothing listens there any more: the provider cannot have the message
    sms = _queue()
    assert send_one(sms.pk)[0] == "retry"
    attempt = SmsAttempt.objects.get(sms=sms)
    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.TRANSIENT, "connect")
    fake_twilio.stop = lambda: None
