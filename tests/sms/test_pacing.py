"""The sender loop against fake providers on loopback that count, by their own clock, the sends
they receive: no sliding second ever holds more than R of them — also when a sending thread is
descheduled between the pacing gate and the call. The rate the loop reaches (≥ 0.95 R) depends on
the machine's load, so it is measured by ``bench/sms_pacing.py``, not asserted here."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from sms.backends import TwilioBackend
from sms.choices import SmsStatus
from sms.models import OutboundSms, SenderBucket, SmsAttempt
from sms.outbox import ProviderWindow, claim_batch, run_sender
from sms.providers.aliyun import AliyunBackend
from sms.providers.tencent import TencentBackend
from sms.tasks import send_sms_task

from .pacing import busiest_second, late_sends, queue_evaluations, stamp_arrivals


def _rows(count: int, *, segments: int = 1, start: int = 0) -> list[OutboundSms]:
    return queue_evaluations(count, prefix="pacing-test-", segments=segments, start=start)


@pytest.mark.django_db(transaction=True)
def test_the_sender_loop_keeps_every_second_at_the_provider_within_r_and_sends_each_sms_once(
    fake_twilio, always_open, settings
):
    rate = 20
    settings.SMS_SEGMENTS_PER_SECOND = rate
    fake_twilio.rate_limit = rate  # above R in a wall-clock second it answers 429
    arrivals = stamp_arrivals(fake_twilio)
    _rows(100)
    outcomes = run_sender(max_seconds=30, threads=4)
    assert len(arrivals) == 100
    assert busiest_second(arrivals) <= rate
    # Each SMS was sent once, none refused.
    assert outcomes == {"sent": 100}, (outcomes, fake_twilio.refused)
    assert fake_twilio.refused == 0
    assert OutboundSms.objects.filter(status=SmsStatus.SENT).count() == 100
    assert SmsAttempt.objects.count() == 100
    assert SenderBucket.objects.get().loop_until is None  # the lease is given back


@pytest.mark.django_db(transaction=True)
def test_a_thread_descheduled_between_the_gate_and_the_call_never_puts_a_second_above_r(
    fake_twilio, always_open, settings, monkeypatch
):
    # One send in seven arrives 300 ms after the gate let it through, while the next ones go on
    # time. Spacing the calls when they are let through (as before) put 21 and more into one
    # second at the provider; the window counts a call until a second after it returned.
    rate = 20
    settings.SMS_SEGMENTS_PER_SECOND = rate
    fake_twilio.rate_limit = rate
    arrivals = stamp_arrivals(fake_twilio)
    monkeypatch.setattr(TwilioBackend, "send", late_sends(TwilioBackend, every=7, seconds=0.3))
    _rows(100)
    outcomes = run_sender(max_seconds=30, threads=4)
    assert outcomes == {"sent": 100}, (outcomes, fake_twilio.refused)
    assert len(arrivals) == 100 and fake_twilio.refused == 0
    assert busiest_second(arrivals) <= rate


@pytest.fixture(params=["aliyun", "tencent"])
def mainland_provider(request, settings):
    """A fake Aliyun or Tencent SMS API (``conftest.py``) that counts what it receives; the backend class."""
    fake = request.getfixturevalue(f"fake_{request.param}")
    settings.ALIYUN_SMS_TIMEOUT_SECONDS = settings.TENCENT_SMS_TIMEOUT_SECONDS = 5
    return stamp_arrivals(fake), {"aliyun": AliyunBackend, "tencent": TencentBackend}[request.param]


@pytest.mark.django_db(transaction=True)
def test_aliyun_and_tencent_sends_pass_the_same_window(mainland_provider, settings, monkeypatch):
    arrivals, backend_class = mainland_provider
    rate = 10
    settings.SMS_SEGMENTS_PER_SECOND = rate
    monkeypatch.setattr(backend_class, "send", late_sends(backend_class, every=5, seconds=0.3))
    _rows(40)
    outcomes = run_sender(max_seconds=30, threads=4)
    assert outcomes == {"sent": 40}, outcomes
    assert len(arrivals) == 40
    assert busiest_second(arrivals) <= rate


@pytest.mark.django_db(transaction=True)
def test_the_next_loop_goes_on_from_the_window_the_last_one_left(fake_twilio, always_open, settings):
    rate = 5
    settings.SMS_SEGMENTS_PER_SECOND = rate
    # A schedule twice as fast as the provider (a bucket reset, another host's clock): only the
    # window stands between the two loops and a second of ten.
    settings.SMS_PACING_HEADROOM = -1.0
    arrivals = stamp_arrivals(fake_twilio)
    _rows(5)
    before = timezone.now().timestamp()
    assert run_sender(max_seconds=30, threads=2) == {"sent": 5}
    after = timezone.now().timestamp()
    # The calls still counting in the provider's second are stored in the database's clock.
    stored = SenderBucket.objects.get().recent_sends
    assert 1 <= len(stored) <= 5
    assert all(before + 1.0 < end < after + 1.2 and n == 1 for end, n in stored), (before, after, stored)
    _rows(5, start=5)
    assert run_sender(max_seconds=30, threads=2) == {"sent": 5}
    assert len(arrivals) == 10
    assert busiest_second(arrivals) <= rate


@pytest.mark.django_db
def test_a_send_task_published_before_the_loop_leaves_the_row_to_the_loop_and_its_window(
    fake_twilio, always_open, celery_eager
):
    (sms,) = _rows(1)
    assert send_sms_task(sms.pk) == "handed_to_sender_loop"
    # The loop it woke (run at once in tests) sent the row, through the window.
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT and len(fake_twilio.messages) == 1
    assert len(SenderBucket.objects.get().recent_sends) == 1
    assert send_sms_task(sms.pk) == "not_queued" and len(fake_twilio.messages) == 1


def test_the_window_counts_a_call_until_a_second_after_it_returned_and_a_long_message_alone():
    window = ProviderWindow(3)
    window.acquire(2)
    window.acquire(1)
    started = time.monotonic()
    window.release(2)
    window.release(1)
    window.acquire(1)  # waits until the first two are a second past their return
    assert time.monotonic() - started >= 1.0
    window.release(1)
    # A message longer than the whole rate goes alone once nothing else counts.
    window = ProviderWindow(2)
    started = time.monotonic()
    window.acquire(5)
    window.release(5)
    window.acquire(1)
    assert time.monotonic() - started >= 1.0
    # A rate below one a second still lets one through; 10.0 from the settings allows 10.
    assert ProviderWindow(0.5).limit == 1 and ProviderWindow(10.0).limit == 10


@pytest.mark.django_db
def test_a_claim_takes_only_what_the_bucket_pays_for_and_gives_each_row_its_moment(always_open, settings):
    settings.SMS_SEGMENTS_PER_SECOND = 10
    settings.SMS_PACING_HEADROOM = 0
    _rows(30, segments=1)
    now = timezone.now()
    kwargs = {"sender": "outbox", "backend_name": "outbox", "default_name": "outbox", "rate": 10.0}
    batch, wait = claim_batch(now=now, due_at=now, **kwargs)
    # One token in the bucket and ten more within the second: eleven rows, 0.1 s apart.
    assert wait is None and len(batch) == 11
    assert [round(at, 3) for _pk, at in batch] == [round(i / 10, 3) for i in range(11)]
    assert OutboundSms.objects.filter(status=SmsStatus.SENDING).count() == 11
    # Claimed again at once: the schedule is already a second ahead, nothing more is paid for.
    batch, wait = claim_batch(now=now, due_at=now, **kwargs)
    assert batch == [] and wait == pytest.approx(0.1)
    # A second later the next rows continue the same schedule, still 0.1 s apart.
    later = now + dt.timedelta(seconds=1)
    batch, wait = claim_batch(now=later, due_at=later, **kwargs)
    assert len(batch) == 10 and batch[0][1] == pytest.approx(0.1)


@pytest.mark.django_db
def test_a_second_loop_for_the_same_sender_exits_at_once(always_open):
    _rows(1)
    SenderBucket.objects.create(sender="outbox", tokens=1)
    SenderBucket.objects.update(loop_until=timezone.now() + dt.timedelta(minutes=1))
    assert run_sender(backend_name="outbox") == {"lease_held": 1}
    assert OutboundSms.objects.get().status == SmsStatus.QUEUED
