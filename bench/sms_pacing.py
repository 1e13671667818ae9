"""Benchmark: evaluation SMS through the sender loop against a provider that allows R a second.

A fake Twilio on loopback (tests/sms/fake_twilio.py, driven by the real twilio client) counts
the messages of each wall-clock second and answers 429 above ``--rate``. The benchmark queues
``--count`` one-segment evaluation SMS, runs ``sms.outbox.run_sender`` until they are sent,
and prints the achieved rate against R, the busiest one-second window (sliding and wall-clock)
and the 429s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_wbench REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/sms_pacing.py --rate 10 --count 2000

The rows it makes (dedupe keys ``bench-pacing-…``) are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

TEXT = "请您对12月31日110接处警工作进行评价：满意回1，基本满意回2，不满意回3，不评价回0。"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10, help="R: messages a second the provider allows")
    parser.add_argument("--count", type=int, default=2000, help="N: evaluation SMS to send")
    parser.add_argument("--threads", type=int, default=None, help="sending threads (SMS_SENDER_THREADS)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from intake.phones import phone_hash
    from sms.choices import SmsPurpose, SmsStatus
    from sms.models import OutboundSms, SenderBucket, SmsAttempt
    from sms.outbox import run_sender
    from tests.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio

    fake = FakeTwilio().start()
    fake.rate_limit = args.rate
    settings.SMS_BACKEND = "sms.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = MESSAGING_SERVICE_SID
    settings.TWILIO_API_BASE_URL = fake.url
    settings.PUBLIC_BASE_URL = "https://oc.example.org"
    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    settings.SMS_SEGMENTS_PER_SECOND = args.rate
    import logging

    logging.getLogger("twilio").setLevel(logging.WARNING)

    prefix = "bench-pacing-"
    OutboundSms.objects.filter(dedupe_key__startswith=prefix).delete()
    SenderBucket.objects.all().delete()
    rows = []
    for i in range(args.count):
        e164 = f"+86138{i:08d}"
        rows.append(
            OutboundSms(
                phone=e164,
                phone_hash=phone_hash(e164),
                template_code="eval_110",
                params={"date": "12月31日"},
                text=TEXT,
                segments=1,
                purpose=SmsPurpose.EVALUATION,
                dedupe_key=f"{prefix}{i}",
            )
        )
    OutboundSms.objects.bulk_create(rows, batch_size=2000)
    print(f"R = {args.rate}/s, N = {args.count}, headroom {settings.SMS_PACING_HEADROOM:.0%}", flush=True)

    started = time.monotonic()
    outcomes: Counter = Counter()
    calls: list[float] = []
    # One loop lasts SMS_SENDER_LOOP_SECONDS; the sweeper would start the next: here, at once.
    while OutboundSms.objects.filter(dedupe_key__startswith=prefix, status=SmsStatus.QUEUED).exists():
        outcomes.update(run_sender(threads=args.threads, calls=calls))
        if time.monotonic() - started > args.count / args.rate * 3 + 60:
            print("giving up: too slow")
            break
    elapsed = time.monotonic() - started
    arrivals = sorted(fake.arrivals)
    achieved = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    per_second = Counter(int(t) for t in arrivals)  # monotonic seconds
    print(f"outcomes: {dict(outcomes)}; wall time {elapsed:.1f} s")
    print(f"achieved {achieved:.2f}/s = {achieved / args.rate:.3f} R (first to last accepted message)")
    print(
        f"busiest 1-second window: sliding {fake.busiest_second()}, aligned {max(per_second.values())} (R = {args.rate})"
    )
    print(
        f"429 answers: {fake.refused}; attempts per SMS: {SmsAttempt.objects.filter(sms__dedupe_key__startswith=prefix).count() / args.count:.3f}"
    )
    OutboundSms.objects.filter(dedupe_key__startswith=prefix).delete()
    fake.stop()


if __name__ == "__main__":
    main()
