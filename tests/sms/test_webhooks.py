"""Twilio webhooks: signatures checked with the real RequestValidator, replays create nothing."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from sms.choices import SmsPurpose, SmsStatus
from sms.models import DeliveryStatusEvent, InboundSms, OutboundSms
from sms.outbox import send_one
from surveys.choices import Verdict
from surveys.models import Rating
from surveys.services.records import run_evaluation

from .fake_twilio import AUTH_TOKEN

pytestmark = pytest.mark.django_db

INBOUND = "/sms/twilio/inbound/"
STATUS = "/sms/twilio/status/"


def _signed_post(client, path, params, *, base="https://oc.example.org", token=AUTH_TOKEN, **extra):
    signature = RequestValidator(token).compute_signature(base + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


def _reply(sid="SM" + "a" * 32, body="1", phone="+8613800001234"):
    return {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "To": "+15005550006", "Body": body}


@pytest.fixture
def sent_evaluation(fake_twilio, always_open, make_record):
    record = make_record()
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    assert send_one(sms.pk)[0] == "sent"
    sms.refresh_from_db()
    return sms


def test_it_refuses_unsigned_and_wrongly_signed_webhooks(client, fake_twilio, sent_evaluation):
    params = _reply()
    assert client.post(INBOUND, params).status_code == 403
    assert client.post(INBOUND, params, HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert _signed_post(client, INBOUND, params, token="another-token").status_code == 403
    # Signed for another URL (http instead of the public https address).
    assert _signed_post(client, INBOUND, params, base="http://testserver").status_code == 403
    tampered = RequestValidator(AUTH_TOKEN).compute_signature("https://oc.example.org" + INBOUND, params)
    assert client.post(INBOUND, {**params, "Body": "3"}, HTTP_X_TWILIO_SIGNATURE=tampered).status_code == 403
    assert client.post(STATUS, {"MessageSid": "SMx", "MessageStatus": "delivered"}).status_code == 403
    assert not InboundSms.objects.exists()
    assert not Rating.objects.exists()
    assert not DeliveryStatusEvent.objects.exists()


def test_it_refuses_every_webhook_when_no_auth_token_is_configured(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    signature = RequestValidator("").compute_signature("http://testserver" + INBOUND, _reply())
    assert client.post(INBOUND, _reply(), HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403


def test_it_records_one_rating_when_twilio_delivers_the_same_reply_twice(client, sent_evaluation):
    params = _reply(body="3 民警没来")
    first = _signed_post(client, INBOUND, params)
    second = _signed_post(client, INBOUND, params)
    assert first.status_code == second.status_code == 200
    assert "<Response>" in first.content.decode()
    assert InboundSms.objects.count() == 1
    rating = Rating.objects.get()
    assert (rating.verdict, rating.text, rating.sms_id) == (Verdict.DISSATISFIED, "民警没来", sent_evaluation.pk)
    assert rating.callback.due_at > rating.rated_at


def test_it_applies_a_signed_status_callback_once(client, sent_evaluation):
    params = {"MessageSid": sent_evaluation.provider_sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert _signed_post(client, STATUS, params).status_code == 204
    assert _signed_post(client, STATUS, params).status_code == 204
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.DELIVERED
    assert DeliveryStatusEvent.objects.count() == 1


def test_it_validates_against_the_request_url_behind_a_tls_proxy(client, settings, sent_evaluation):
    settings.PUBLIC_BASE_URL = ""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    params = _reply()
    # Twilio called https://testserver/…; the proxy forwarded it to us over http.
    response = _signed_post(client, INBOUND, params, base="https://testserver", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert _signed_post(client, INBOUND, _reply(sid="SM" + "b" * 32), base="https://testserver").status_code == 403


def test_it_keeps_the_simulator_off_unless_the_outbox_backend_is_active(client, administrator, fake_twilio, settings):
    settings.SMS_SIMULATOR_ENABLED = True
    client.force_login(administrator)
    assert client.get("/sms/simulator/").status_code == 404
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    assert client.get("/sms/simulator/").status_code == 200
    client.logout()
    assert client.get("/sms/simulator/").status_code == 302


def test_it_answers_as_the_citizen_from_the_simulator(client, administrator, settings, always_open, make_record):
    settings.SMS_SIMULATOR_ENABLED = True
    record = make_record()
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    send_one(sms.pk)
    client.force_login(administrator)
    page = client.get("/sms/simulator/").content.decode()
    assert sms.text in page
    client.post("/sms/simulator/", {"phone_ref": sms.pk, "body": "２"})
    assert Rating.objects.get().verdict == Verdict.BASIC
    assert sms.purpose == SmsPurpose.EVALUATION


def test_it_runs_the_whole_flow_against_twilio(client, fake_twilio, always_open, make_record, celery_eager, leader):
    import datetime as dt

    import time_machine
    from django.utils import timezone as tz

    from sms.outbox import sweep
    from surveys.models import Callback

    make_record(phone="13800000041")
    make_record(phone="13800000042")
    run_evaluation()
    with time_machine.travel(tz.now() + dt.timedelta(minutes=3), tick=False):
        assert sweep()["enqueued"] == 2
    assert len(fake_twilio.messages) == 2
    by_phone = {m["to"]: m for m in fake_twilio.messages}
    for phone, body, sid in (
        ("+8613800000041", "1", "SM" + "1" * 32),
        ("+8613800000042", "３ 等了一个小时", "SM" + "2" * 32),
    ):
        status = {"MessageSid": by_phone[phone]["sid"], "MessageStatus": "delivered"}
        assert _signed_post(client, STATUS, status).status_code == 204
        assert _signed_post(client, INBOUND, _reply(sid=sid, body=body, phone=phone)).status_code == 200
    assert OutboundSms.objects.filter(status=SmsStatus.DELIVERED).count() == 2
    assert sorted(Rating.objects.values_list("verdict", flat=True)) == [Verdict.DISSATISFIED, Verdict.SATISFIED]
    assert Callback.objects.get().rating.text == "等了一个小时"
    sweep()
    assert len(fake_twilio.messages) == 2
