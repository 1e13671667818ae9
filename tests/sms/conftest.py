"""Fixtures of the SMS tests (used by the surveys tests too): the seeded catalogue, a fake Twilio on
loopback, sending hours that include now, service records of the demo city."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from intake.phones import phone_hash
from surveys.models import BusinessType, ServiceRecord

from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio


@pytest.fixture(autouse=True)
def catalogue(request):
    """The seeded templates and business types (a transactional test elsewhere may have flushed them)."""
    if "django_db" not in {m.name for m in request.node.iter_markers()}:
        return
    request.getfixturevalue("django_db_blocker")
    from surveys.catalogue import seed_defaults

    seed_defaults()


@pytest.fixture
def always_open(settings):
    """Sending hours that include every minute of the day (most tests are not about the window)."""
    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    return settings


@pytest.fixture
def fake_twilio(settings):
    fake = FakeTwilio().start()
    settings.SMS_BACKEND = "sms.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = MESSAGING_SERVICE_SID
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_TIMEOUT_SECONDS = 2.0
    settings.PUBLIC_BASE_URL = "https://oc.example.org"
    yield fake
    fake.stop()


@pytest.fixture
def make_record(station):
    counter = {"n": 0}

    def make(*, phone="13800001234", served_at=None, business="110", unit=None, external_id=None):
        counter["n"] += 1
        e164 = "+86" + phone
        return ServiceRecord.objects.create(
            external_id=external_id or f"REC-{counter['n']:05d}",
            business_type=BusinessType.objects.get(code=business),
            served_at=served_at or timezone.now() - dt.timedelta(days=1),
            unit=unit or station,
            citizen_phone=e164,
            citizen_phone_hash=phone_hash(e164),
        )

    return make
