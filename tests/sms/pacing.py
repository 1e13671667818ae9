"""What the pacing tests (``test_pacing.py``) and the pacing benchmark (``bench/sms_pacing.py``)
both need: evaluation SMS to send, a fake provider that stamps each request it receives, the
busiest second of those stamps, and sends made late on purpose."""

from __future__ import annotations

import itertools
import time

TEXT = "请您对12月31日110接处警工作进行评价：满意回1，基本满意回2，不满意回3，不评价回0。"


def queue_evaluations(count: int, *, prefix: str, segments: int = 1, start: int = 0, batch_size: int | None = None):
    """``count`` queued evaluation SMS to fake numbers 1380000xxxx (numbers ``start`` …, at most
    10,000), each with the dedupe key ``prefix`` and its number; the rows created."""
    from intake.phones import phone_hash
    from sms.choices import SmsPurpose
    from sms.models import OutboundSms

    if start + count > 10_000:
        raise ValueError("at most 10,000 fake numbers")
    rows = []
    for i in range(start, start + count):
        e164 = f"+861380000{i:04d}"
        rows.append(
            OutboundSms(
                phone=e164,
                phone_hash=phone_hash(e164),
                template_code="eval_110",
                params={"date": "12月31日"},
                text=TEXT,
                segments=segments,
                purpose=SmsPurpose.EVALUATION,
                dedupe_key=f"{prefix}{i}",
            )
        )
    return OutboundSms.objects.bulk_create(rows, batch_size=batch_size)


def stamp_arrivals(fake) -> list[float]:
    """Make the fake provider ``fake`` record the monotonic moment each POST reaches it (its
    request line and headers read), accepted or refused, on the server side; the list it fills."""
    arrivals: list[float] = []
    handler = fake.server.RequestHandlerClass

    class Stamping(handler):
        def do_POST(self):
            arrivals.append(time.monotonic())
            super().do_POST()

    fake.server.RequestHandlerClass = Stamping
    return arrivals


def busiest_second(times: list[float]) -> int:
    """The most moments of ``times`` in any sliding one-second window."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def achieved_rate(times: list[float]) -> float:
    """Moments a second from the first of ``times`` to the last (0 with fewer than two)."""
    times = sorted(times)
    if len(times) < 2 or times[-1] == times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def late_sends(backend_class, *, every: int, seconds: float):
    """``backend_class.send`` where every ``every``-th call sleeps ``seconds`` before calling the
    provider: a sending thread the scheduler took off the CPU between the pacing gate and the call."""
    counter = itertools.count(1)
    send = backend_class.send

    def late_send(self, message):
        if next(counter) % every == 0:
            time.sleep(seconds)
        return send(self, message)

    return late_send
