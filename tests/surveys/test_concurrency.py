"""Two workers racing for the same outbox rows on PostgreSQL: each SMS reaches Twilio once."""

from __future__ import annotations

import pytest
from django.db import connection

from sms.choices import SmsPurpose, SmsStatus
from sms.models import OutboundSms
from sms.outbox import send_one
from sms.services import queue_sms
from tests.helpers import race

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
    results, errors = race(lambda: [send_one(pk)[0] for pk in ids])
    assert errors == []
    outcomes = [outcome for worker in results for outcome in worker]
    assert len(fake_twilio.messages) == 10
    assert len({m["to"] for m in fake_twilio.messages}) == 10
    assert outcomes.count("sent") == 10
    assert OutboundSms.objects.filter(status=SmsStatus.SENT).count() == 10


def test_it_keeps_the_sms_when_the_broker_is_down_and_sends_it_when_it_returns(always_open, celery_eager, settings):
    """A web process whose broker is unreachable still commits the outbox row (and answers);
    the sweeper sends it once the broker is back."""
    import datetime as dt
    import os
    import subprocess
    import sys

    import time_machine
    from django.utils import timezone

    from sms.outbox import sweep

    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    script = (
        "import django; django.setup()\n"
        "from django.db import transaction\n"
        "from sms.services import queue_sms\n"
        "with transaction.atomic():\n"
        "    sms = queue_sms(phone='13800002223', template_code='urge_reminder',"
        " params={'order': 'GD20261122-00001', 'when': '11月22日18:00'}, purpose='urge_reminder')\n"
        "print(sms.pk)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opinion_center.settings",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing listens there
        "SMS_SEND_HOURS": "00:00-23:59:59",
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    sms = OutboundSms.objects.get(pk=int(done.stdout.strip().splitlines()[-1]))
    assert sms.status == SmsStatus.QUEUED
    assert "left for its sweeper" in done.stderr
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3), tick=False):
        assert sweep()["enqueued"] == 1
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED


def test_two_taps_at_once_from_one_device_make_one_qr_rating_and_one_order(center, station):
    """A citizen double-taps 不满意: the point row lock makes the second submission fold into
    the first, and the rectification order is opened once."""
    from django.core.cache import cache

    from surveys.models import Rating
    from surveys.services.qr_ratings import save_rating_point, submit_qr_rating
    from workorders.models import WorkOrder

    cache.clear()
    point = save_rating_point(None, actor=center, unit=station, kind="window", name="并发窗口")
    folded, errors = race(
        lambda: submit_qr_rating(point, verdict="dissatisfied", device_id="same-phone", text="没人理")[1]
    )
    assert errors == []
    assert sorted(folded) == [False, True]
    assert Rating.objects.filter(rating_point=point).count() == 1
    assert WorkOrder.objects.filter(appeal__channel="qr_rating").count() == 1
