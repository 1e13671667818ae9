"""Fixtures of the SMS tests (used by the surveys tests too): the seeded catalogue, the fake
providers on loopback (Twilio, Aliyun, Tencent Cloud) with the settings that point the real
clients at them, sending hours that include now, service records of the demo city."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from intake.phones import phone_hash
from sms.models import SmsTemplate
from surveys.models import BusinessType, ServiceRecord

from . import fake_aliyun as aliyun
from . import fake_tencent as tencent
from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio

ALIYUN_CALLBACK_TOKEN = "aliyun-callback-token-0123456789"
TENCENT_CALLBACK_TOKEN = "tencent-callback-token-0123456789"


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
    with FakeTwilio() as fake:
        settings.SMS_BACKEND = "sms.backends.TwilioBackend"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_MESSAGING_SERVICE_SID = MESSAGING_SERVICE_SID
        settings.TWILIO_API_BASE_URL = fake.url
        settings.TWILIO_TIMEOUT_SECONDS = 2.0
        settings.PUBLIC_BASE_URL = "https://oc.example.org"
        yield fake


@pytest.fixture
def fake_aliyun(settings, always_open):
    """A fake dysmsapi that checks the V3 signature; the Aliyun backend and callbacks point at it."""
    with aliyun.FakeAliyun() as fake:
        settings.SMS_BACKEND = "aliyun"
        settings.ALIYUN_SMS_ACCESS_KEY_ID = aliyun.ACCESS_KEY_ID
        settings.ALIYUN_SMS_ACCESS_KEY_SECRET = aliyun.ACCESS_KEY_SECRET
        settings.ALIYUN_SMS_SIGN_NAME = aliyun.SIGN_NAME
        settings.ALIYUN_SMS_ENDPOINT = fake.endpoint
        settings.ALIYUN_SMS_PROTOCOL = "http"
        settings.ALIYUN_SMS_TIMEOUT_SECONDS = 1.0
        settings.ALIYUN_SMS_CALLBACK_TOKEN = ALIYUN_CALLBACK_TOKEN
        settings.ALIYUN_SMS_CALLBACK_CIDRS = ["127.0.0.0/8"]
        SmsTemplate.objects.filter(code="eval_110").update(provider_template_id="SMS_480000110")
        SmsTemplate.objects.filter(code="appeal_closed").update(provider_template_id="SMS_480000901")
        yield fake


@pytest.fixture
def fake_tencent(settings, always_open):
    """A fake Tencent Cloud SMS API that checks TC3-HMAC-SHA256; the backend and callbacks point at it."""
    with tencent.FakeTencent() as fake:
        settings.SMS_BACKEND = "tencent"
        settings.TENCENT_SMS_SECRET_ID = tencent.SECRET_ID
        settings.TENCENT_SMS_SECRET_KEY = tencent.SECRET_KEY
        settings.TENCENT_SMS_SDK_APP_ID = tencent.SDK_APP_ID
        settings.TENCENT_SMS_SIGN_NAME = tencent.SIGN_NAME
        settings.TENCENT_SMS_ENDPOINT = fake.endpoint
        settings.TENCENT_SMS_PROTOCOL = "http"
        settings.TENCENT_SMS_TIMEOUT_SECONDS = 1
        settings.TENCENT_SMS_CALLBACK_TOKEN = TENCENT_CALLBACK_TOKEN
        settings.TENCENT_SMS_CALLBACK_CIDRS = ["127.0.0.1/32"]
        SmsTemplate.objects.filter(code="eval_110").update(provider_template_id="2000110")
        SmsTemplate.objects.filter(code="urge_reminder").update(provider_template_id="2000901")
        SmsTemplate.objects.filter(code="appeal_closed").update(provider_template_id="2000901")
        yield fake


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
