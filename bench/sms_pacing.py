"""Benchmark: evaluation SMS through the sender loop against a provider that allows R a second.

A fake Twilio on loopback (tests/sms/fake_twilio.py, driven by the real twilio client), in a
process of its own as a real provider's work is not ours, counts the messages of each wall-clock
second and answers 429 above ``--rate``; it also stamps the moment each request reaches it. It queues ``--count``
one-segment evaluation SMS, runs ``sms.outbox.run_sender`` until they are sent, and prints the
achieved rate against R, the busiest one-second window at the provider (sliding and
wall-clock), the 429s and how long a provider call took (from the pacing gate letting it
through to its return). ``--late-every N --late-seconds S`` makes every N-th send sleep S
seconds between the gate and the call (a descheduled sending thread).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_h6 REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/sms_pacing.py --rate 10 --count 600

The rows it makes (dedupe keys ``bench-pacing-…``) are deleted at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")


def provider(rate: int, pipe) -> None:
    """The fake provider's process: serve until told to stop, then send back what it counted."""
    from tests.sms.fake_twilio import FakeTwilio
    from tests.sms.pacing import stamp_arrivals

    fake = FakeTwilio()
    received = stamp_arrivals(fake)  # every POST, accepted or refused, when it reaches the server
    fake.start()
    fake.rate_limit = rate
    pipe.send(fake.url)
    pipe.recv()
    pipe.send({"received": received, "accepted": list(fake.arrivals), "refused": fake.refused})
    fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10, help="R: messages a second the provider allows")
    parser.add_argument("--count", type=int, default=2000, help="N: evaluation SMS to send")
    parser.add_argument("--threads", type=int, default=None, help="sending threads (SMS_SENDER_THREADS)")
    parser.add_argument("--late-every", type=int, default=0, help="every N-th send is late (0: none)")
    parser.add_argument("--late-seconds", type=float, default=0.3, help="how late a late send is")
    args = parser.parse_args()

    # Started before Django (no database connection is forked); CLOCK_MONOTONIC is the same
    # clock in both processes.
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(target=provider, args=(args.rate, theirs), daemon=True)
    server.start()
    fake_url = ours.recv()

    import django

    django.setup()
    from django.conf import settings

    from sms.backends import TwilioBackend
    from sms.choices import SmsStatus
    from sms.models import OutboundSms, SenderBucket, SmsAttempt
    from sms.outbox import run_sender
    from tests.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID
    from tests.sms.pacing import achieved_rate, busiest_second, late_sends, queue_evaluations

    durations: list[float] = []
    if args.late_every:
        TwilioBackend.send = late_sends(TwilioBackend, every=args.late_every, seconds=args.late_seconds)
    send = TwilioBackend.send

    def timed_send(self, message):
        started = time.monotonic()
        try:
            return send(self, message)
        finally:
            durations.append(time.monotonic() - started)

    TwilioBackend.send = timed_send
    settings.SMS_BACKEND = "sms.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = MESSAGING_SERVICE_SID
    settings.TWILIO_API_BASE_URL = fake_url
    settings.PUBLIC_BASE_URL = "https://oc.example.org"
    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    settings.SMS_SEGMENTS_PER_SECOND = args.rate
    import logging

    logging.getLogger("twilio").setLevel(logging.WARNING)

    prefix = "bench-pacing-"
    OutboundSms.objects.filter(dedupe_key__startswith=prefix).delete()
    SenderBucket.objects.all().delete()
    queue_evaluations(args.count, prefix=prefix, batch_size=2000)
    late = f", every {args.late_every}th send {args.late_seconds} s late" if args.late_every else ""
    print(f"R = {args.rate}/s, N = {args.count}, headroom {settings.SMS_PACING_HEADROOM:.0%}{late}", flush=True)

    started, cpu_started = time.monotonic(), time.process_time()
    outcomes: Counter = Counter()
    # One loop lasts SMS_SENDER_LOOP_SECONDS; the sweeper would start the next: here, at once.
    while OutboundSms.objects.filter(dedupe_key__startswith=prefix, status=SmsStatus.QUEUED).exists():
        outcomes.update(run_sender(threads=args.threads))
        if time.monotonic() - started > args.count / args.rate * 3 + 60:
            print("giving up: too slow")
            break
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    ours.send("stop")
    counted = ours.recv()
    server.join()
    received, arrivals = counted["received"], sorted(counted["accepted"])
    achieved = achieved_rate(arrivals)
    per_second = Counter(int(t) for t in arrivals)  # monotonic seconds
    print(
        f"outcomes: {dict(outcomes)}; wall time {elapsed:.1f} s; "
        f"CPU of the sending process {cpu / args.count * 1000:.1f} ms per SMS ({cpu / elapsed:.2f} cores)"
    )
    # First to last overstates a short run a little: the first second may go out in a burst (the
    # window allows R at once). The middle 80 % of the messages is the steady rate.
    low, high = len(arrivals) // 10, len(arrivals) * 9 // 10
    steady = achieved_rate(arrivals[low : high + 1])
    print(
        f"achieved {achieved:.2f}/s = {achieved / args.rate:.3f} R (first to last accepted message); "
        f"steady {steady:.2f}/s = {steady / args.rate:.3f} R (the middle 80 %)"
    )
    print(
        f"busiest 1-second window at the provider: sliding {busiest_second(received)} (every request), "
        f"{busiest_second(arrivals)} (accepted); aligned {max(per_second.values())} (R = {args.rate})"
    )
    durations.sort()
    print(
        f"provider call from gate to return: mean {statistics.mean(durations) * 1000:.1f} ms, "
        f"p50 {durations[len(durations) // 2] * 1000:.1f} ms, p99 {durations[int(len(durations) * 0.99)] * 1000:.1f} ms"
    )
    print(
        f"429 answers: {counted['refused']}; attempts per SMS: {SmsAttempt.objects.filter(sms__dedupe_key__startswith=prefix).count() / args.count:.3f}"
    )
    OutboundSms.objects.filter(dedupe_key__startswith=prefix).delete()


if __name__ == "__main__":
    main()
