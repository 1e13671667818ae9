"""Replays at volume: Twilio delivers webhooks at least once, in any order. Every reply and status
report below goes through the real endpoints with a valid signature, shuffled and repeated, and
the outcome must be the one a single, ordered delivery would give."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.db.models import Count
from twilio.request_validator import RequestValidator

from sms.choices import SmsStatus
from sms.models import DeliveryStatusEvent, InboundSms, OutboundSms
from sms.outbox import send_one
from surveys.models import Rating
from surveys.services.records import run_evaluation

from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db

INBOUND = "/sms/twilio/inbound/"
STATUS = "/sms/twilio/status/"
MESSAGES = 200
VALIDATOR = RequestValidator(AUTH_TOKEN)

# The Twilio statuses one message may report, in the order they happen; the last one is final.
LIVES = [
    ["queued", "sending", "sent", "delivered"],
    ["accepted", "sent", "delivered", "read"],
    ["queued", "sent", "undelivered"],
    ["sending", "failed"],
]
FINAL = {"delivered": SmsStatus.DELIVERED, "read": SmsStatus.DELIVERED, "undelivered": SmsStatus.UNDELIVERED}


def _post(client, path: str, params: dict):
    signature = VALIDATOR.compute_signature("https://oc.example.org" + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def sent(fake_twilio, always_open, make_record, settings) -> list[OutboundSms]:
    """MESSAGES evaluation SMS, each to its own phone, sent through the fake provider (unpaced)."""
    settings.SMS_BUCKET_SEGMENTS = MESSAGES
    for i in range(MESSAGES):
        make_record(phone=f"1380000{i:04d}")
    run_evaluation()
    rows = list(OutboundSms.objects.order_by("pk"))
    assert len(rows) == MESSAGES
    for sms in rows:
        assert send_one(sms.pk)[0] == "sent"
    return list(OutboundSms.objects.order_by("pk"))


def test_replies_delivered_three_times_in_any_order_make_one_rating_each(client, sent):
    rng = random.Random(20261120)
    deliveries = []
    for i, sms in enumerate(sent):
        params = {
            "MessageSid": f"SMin{i:030d}",
            "AccountSid": ACCOUNT_SID,
            "From": sms.phone,
            "To": "+15005550006",
            "Body": rng.choice(["1", "2", "3 民警没来", "满意", "基本满意"]),
        }
        deliveries += [params] * 3
    rng.shuffle(deliveries)

    codes = Counter(_post(client, INBOUND, params).status_code for params in deliveries)

    assert codes == {200: 3 * MESSAGES}
    assert InboundSms.objects.count() == MESSAGES
    assert Rating.objects.count() == MESSAGES
    assert not Rating.objects.values("sms").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(Rating.objects.values_list("sms_id", flat=True)) == {sms.pk for sms in sent}


def test_status_reports_shuffled_and_repeated_only_move_forward(client, sent):
    rng = random.Random(20261121)
    plans = {sms.provider_sid: rng.choice(LIVES) for sms in sent}
    deliveries = []
    for sid, life in plans.items():
        for status in life:
            params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
            if status in ("undelivered", "failed"):
                params["ErrorCode"] = "30003"
            deliveries += [params] * rng.randint(1, 3)
    rng.shuffle(deliveries)

    codes = Counter(_post(client, STATUS, params).status_code for params in deliveries)

    assert codes == {204: len(deliveries)}
    final = dict(OutboundSms.objects.values_list("provider_sid", "status"))
    expected = {sid: FINAL.get(life[-1], SmsStatus.FAILED) for sid, life in plans.items()}
    assert final == expected
    events = Counter(DeliveryStatusEvent.objects.values_list("provider_sid", "provider_status"))
    assert events == Counter({(sid, status): 1 for sid, life in plans.items() for status in life})
    assert all(event.sms_id for event in DeliveryStatusEvent.objects.all())
