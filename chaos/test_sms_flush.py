"""Scenario 2: Redis flushed in the middle of a batch of evaluation SMS.

N service records, one evaluation run, a real Celery worker sending through the real Twilio client
to a fake provider on loopback that answers some requests with a 500, some with a permanent refusal
and stores some then hangs past the client's timeout. Mid-batch Redis is FLUSHALLed (every queued
task and the worker's unacked one vanish) and the worker is SIGKILLed once. Then the sweeper runs
(called directly every few seconds; beat would call it every minute) until every row is final.
No row may be lost (each one sent, or failed with a reason) and no phone may get two messages.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter

from tests.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio

from .harness import report

SMS_ENV = {
    "SMS_BACKEND": "sms.backends.TwilioBackend",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID,
    "TWILIO_TIMEOUT_SECONDS": "1",
    "SMS_SEND_HOURS": "00:00-23:59:59",
    "SMS_SEGMENTS_PER_SECOND": "100",
    "SMS_BUCKET_SEGMENTS": "100",
    "SMS_STUCK_SENDING_SECONDS": "5",
    "SMS_RETRY_BASE_SECONDS": "1",
    "SMS_RECONCILE_BASE_SECONDS": "1",
    "SMS_RECONCILE_MAX_INTERVAL_SECONDS": "4",
}
NUMERIC = {"TWILIO_TIMEOUT_SECONDS", "SMS_SEGMENTS_PER_SECOND"}
INTEGER = {
    "SMS_BUCKET_SEGMENTS",
    "SMS_STUCK_SENDING_SECONDS",
    "SMS_RETRY_BASE_SECONDS",
    "SMS_RECONCILE_BASE_SECONDS",
    "SMS_RECONCILE_MAX_INTERVAL_SECONDS",
}


def _wait_until(predicate, *, timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def test_sms_batch_survives_a_flushed_redis_and_a_killed_worker(scenario, settings):
    import redis
    from django.utils import timezone

    from intake.phones import phone_hash
    from sms.choices import SmsStatus
    from sms.models import OutboundSms
    from sms.outbox import sweep
    from surveys.models import BusinessType, ServiceRecord
    from surveys.services.records import run_evaluation
    from units.models import User

    stack, _url = scenario
    n = int(os.environ.get("CHAOS_SMS_N", "1000"))
    timeout = float(os.environ.get("CHAOS_TIMEOUT", "900"))
    redis_port = int(os.environ["CHAOS_REDIS_PORT"])

    fake = FakeTwilio().start()
    fake.inject(error_rate=0.05, permanent_rate=0.01, timeout_rate=0.02, timeout_seconds=1.5, seed=11)
    env = {**SMS_ENV, "TWILIO_API_BASE_URL": fake.url}
    stack.env.update(env)
    for name, value in env.items():
        cast = float if name in NUMERIC else int if name in INTEGER else str
        setattr(settings, name, cast(value))

    try:
        # Records of a day of their own, so that the run takes exactly ours.
        day = timezone.localdate() - dt.timedelta(days=400)
        served = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
        unit = User.objects.get(username="handler").unit
        business = BusinessType.objects.get(code="110")
        records = []
        for i in range(n):
            e164 = f"+861380{i:07d}"
            records.append(
                ServiceRecord(
                    external_id=f"CHAOS-SMS-{i:06d}",
                    business_type=business,
                    served_at=served,
                    unit=unit,
                    citizen_phone=e164,
                    citizen_phone_hash=phone_hash(e164),
                )
            )
        ServiceRecord.objects.bulk_create(records, batch_size=500)

        stack.start_redis(redis_port)
        stack.start_worker()
        ours = OutboundSms.objects.filter(service_record__external_id__startswith="CHAOS-SMS-")
        started = time.monotonic()
        run = run_evaluation(service_date=day)  # after commit: the sweeper task, which enqueues each row
        # The demo city's own evaluations may have reached a few of these numbers lately (phone cap).
        queued = ours.count()
        assert run.queued == queued >= n * 0.95, (run.queued, run.skipped_reasons)

        def settled() -> int:
            return ours.exclude(status__in=[SmsStatus.QUEUED, SmsStatus.SENDING]).count()

        assert _wait_until(lambda: settled() >= queued * 0.3, timeout=300), "the worker sends nothing (see var/chaos/)"
        redis.Redis(port=redis_port).flushall()
        flushed_at = time.monotonic()
        at_flush = settled()
        # Whatever the worker had prefetched still runs; kill it while it is busy with that.
        _wait_until(lambda: settled() >= at_flush + 1, timeout=20, every=0.05)
        stack.kill("worker")
        at_kill = settled()
        time.sleep(1)
        stack.start_worker()

        sweeps = Counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and ours.filter(status__in=[SmsStatus.QUEUED, SmsStatus.SENDING]).exists():
            sweeps.update({k: v for k, v in sweep().items() if v})
            sweeps["runs"] += 1
            time.sleep(3)
        converged = time.monotonic() - flushed_at
        total = time.monotonic() - started

        statuses = Counter(ours.values_list("status", flat=True))
        assert statuses[SmsStatus.QUEUED] == statuses[SmsStatus.SENDING] == 0, statuses
        failed = ours.filter(status=SmsStatus.FAILED)
        assert not failed.filter(last_error="").exists(), "a failed row without a reason"
        per_phone = fake.sends_per_phone()
        # The demo city's own queued SMS go out too (the sender loop sends every due row), and a
        # demo citizen may share a number with one of ours: a message of ours is its number and
        # its text, and none may reach the provider twice.
        our_messages = set(ours.values_list("phone", "text"))
        with fake.lock:
            per_message = Counter((m["to"], m["body"]) for m in fake.messages)
        twice = {key: k for key, k in per_message.items() if k > 1 and key in our_messages}
        assert not twice, f"sent twice: {twice}"
        sent = ours.exclude(status=SmsStatus.FAILED)
        our_phones = set(ours.values_list("phone", flat=True))
        assert set(sent.values_list("phone", flat=True)) == set(per_phone) & our_phones
        sids = {m["sid"] for m in fake.messages}
        assert set(sent.values_list("provider_sid", flat=True)) <= sids
        assert statuses[SmsStatus.FAILED] + sent.count() == queued
    finally:
        fake.stop()

    report(
        "scenario 2: Redis flushed mid-batch of evaluation SMS",
        records=n,
        sms_queued=f"{queued} (skipped {run.skipped_reasons})",
        injected=dict(fake.injected),
        settled_at_flush=at_flush,
        settled_at_worker_kill=at_kill,
        statuses=dict(statuses),
        failed_reasons=dict(Counter(e[:48] for e in failed.values_list("last_error", flat=True))),
        lost=0,
        sent_twice=len(twice),
        sweeper=dict(sweeps),
        kills=dict(stack.kills),
        converge_seconds_after_flush=f"{converged:.1f}",
        total_seconds=f"{total:.1f}",
    )
