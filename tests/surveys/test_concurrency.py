"""Two workers racing for the same outbox rows on PostgreSQL: each SMS reaches Twilio once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from surveys.choices import SmsPurpose, SmsStatus
from surveys.models import OutboundSms
from surveys.outbox import send_one
from surveys.sms import queue_sms

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_sends_each_row_once_when_two_workers_race(fake_twilio, always_open, settings):
    settings.SMS_BUCKET_SEGMENTS = 100
    ids = [
        queue_sms(
            phone=f"1380000{i:04d}",
            template_code="appeal_closed",
            params={"code": f"C{i}"},
            purpose=SmsPurpose.APPEAL_CLOSED,
        ).pk
        for i in range(10)
    ]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        try:
            for pk in ids:
                outcomes.append(send_one(pk)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake_twilio.messages) == 10
    assert len({m["to"] for m in fake_twilio.messages}) == 10
    assert outcomes.count("sent") == 10
    assert OutboundSms.objects.filter(status=SmsStatus.SENT).count() == 10
