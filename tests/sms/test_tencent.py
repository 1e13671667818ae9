"""Tencent Cloud SMS: the real SDK against a fake SMS API on loopback (TC3-HMAC-SHA256 checked),
the callback endpoints (token + source address), the error-code mapping and reconciliation."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sms.choices import OptOutSource, SmsStatus
from sms.models import DeliveryStatusEvent, InboundSms, OptOut, OutboundSms, SmsTemplate
from sms.outbox import send_one, sweep
from sms.services import queue_sms
from surveys.choices import Verdict
from surveys.models import Rating
from surveys.services.records import run_evaluation
from units.models import Notification

from .fake_tencent import SDK_APP_ID, SECRET_ID, SECRET_KEY, SIGN_NAME, FakeTencent

pytestmark = pytest.mark.django_db

TOKEN = "tencent-callback-token-0123456789"
REPORT = f"/sms/tencent/{TOKEN}/report/"
REPLY = f"/sms/tencent/{TOKEN}/reply/"


@pytest.fixture
def fake_tencent(settings, always_open):
    fake = FakeTencent().start()
    settings.SMS_BACKEND = "tencent"
    settings.TENCENT_SMS_SECRET_ID = SECRET_ID
    settings.TENCENT_SMS_SECRET_KEY = SECRET_KEY
    settings.TENCENT_SMS_SDK_APP_ID = SDK_APP_ID
    settings.TENCENT_SMS_SIGN_NAME = SIGN_NAME
    settings.TENCENT_SMS_ENDPOINT = fake.endpoint
    settings.TENCENT_SMS_PROTOCOL = "http"
    settings.TENCENT_SMS_TIMEOUT_SECONDS = 1
    settings.TENCENT_SMS_CALLBACK_TOKEN = TOKEN
    settings.TENCENT_SMS_CALLBACK_CIDRS = ["127.0.0.1/32"]
    SmsTemplate.objects.filter(code="eval_110").update(provider_template_id="2000110")
    SmsTemplate.objects.filter(code="urge_reminder").update(provider_template_id="2000901")
    SmsTemplate.objects.filter(code="appeal_closed").update(provider_template_id="2000901")
    yield fake
    fake.stop()


def _push(client, path, document, **extra):
    return client.post(path, json.dumps(document, ensure_ascii=False), content_type="application/json", **extra)


@pytest.fixture
def sent_evaluation(fake_tencent, make_record):
    record = make_record(phone="13800000301")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    assert send_one(sms.pk)[0] == "sent"
    sms.refresh_from_db()
    return sms


def _reply(text: str, phone: str = "13800000301") -> dict:
    return {
        "extend": "",
        "mobile": phone,
        "nationcode": "86",
        "sign": SIGN_NAME,
        "text": text,
        "time": int(time.time()),
    }


def test_it_sends_the_evaluation_sms_with_app_signature_template_and_ordered_params(sent_evaluation, fake_tencent):
    (message,) = fake_tencent.messages
    assert fake_tencent.bad_signatures == 0
    assert (message["phone"], message["sign"], message["template"]) == ("+8613800000301", SIGN_NAME, "2000110")
    assert message["params"] == [sent_evaluation.params["date"]]
    assert message["session"] == str(sent_evaluation.pk)
    assert (sent_evaluation.status, sent_evaluation.backend, sent_evaluation.provider_sid) == (
        SmsStatus.SENT,
        "tencent",
        message["serial"],
    )


def test_the_fake_refuses_a_request_signed_with_another_key(fake_tencent, settings):
    settings.TENCENT_SMS_SECRET_KEY = "not-the-key"
    sms = queue_sms(phone="13800000302", template_code="appeal_closed", params={"code": "C1"}, purpose="appeal_closed")
    assert send_one(sms.pk)[0] == "failed"
    assert fake_tencent.bad_signatures == 1 and not fake_tencent.messages
    assert sms.sms_attempts.get().error_code == "AuthFailure.SignatureFailure"


def test_it_sends_the_appeal_closed_and_a_two_parameter_sms_in_template_order(fake_tencent):
    closed = queue_sms(
        phone="13800000303", template_code="appeal_closed", params={"code": "Q1"}, purpose="appeal_closed"
    )
    urge = queue_sms(
        phone="13800000303",
        template_code="urge_reminder",
        params={"when": "12月31日 23:59", "order": "GD1"},
        purpose="urge_reminder",
    )
    assert send_one(closed.pk)[0] == send_one(urge.pk)[0] == "sent"
    assert [m["params"] for m in fake_tencent.messages] == [["Q1"], ["GD1", "12月31日 23:59"]]


def test_a_reply_3_becomes_a_dissatisfied_rating_once(client, sent_evaluation):
    reply = _reply("3 没人来")
    first, second = _push(client, REPLY, reply), _push(client, REPLY, reply)
    assert first.status_code == second.status_code == 200
    assert first.json() == {"result": 0, "errmsg": "OK"}
    inbound = InboundSms.objects.get()
    assert inbound.provider == "tencent" and "13800000301" not in inbound.provider_message_id
    rating = Rating.objects.get()
    assert (rating.verdict, rating.text, rating.sms_id) == (Verdict.DISSATISFIED, "没人来", sent_evaluation.pk)
    assert rating.callback is not None


def test_a_report_twice_counts_once_and_a_late_failure_does_not_undo_delivery(client, sent_evaluation, fake_tencent):
    (message,) = fake_tencent.messages
    delivered = [fake_tencent.report(message)]
    assert _push(client, REPORT, delivered).json() == {"result": 0, "errmsg": "OK"}
    assert _push(client, REPORT, delivered).status_code == 200
    assert DeliveryStatusEvent.objects.count() == 1
    assert _push(client, REPORT, [fake_tencent.report(message, success=False)]).status_code == 200
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.DELIVERED
    assert DeliveryStatusEvent.objects.filter(applied=True).count() == 1


def test_it_refuses_unauthenticated_and_malformed_callbacks(client, sent_evaluation, fake_tencent):
    (message,) = fake_tencent.messages
    items = [fake_tencent.report(message)]
    assert _push(client, "/sms/tencent/wrong/report/", items).status_code == 403
    assert _push(client, REPORT, items, REMOTE_ADDR="127.0.0.2").status_code == 403
    assert _push(client, "/sms/tencent/wrong/reply/", _reply("3")).status_code == 403
    assert _push(client, REPORT, [{**items[0], "report_status": "MAYBE"}]).status_code == 400
    assert _push(client, REPORT, items[0]).status_code == 400
    assert _push(client, REPLY, {**_reply("3"), "time": "yesterday"}).status_code == 400
    assert client.post(REPLY, b"\xff\xfe", content_type="application/json").status_code == 400
    assert not DeliveryStatusEvent.objects.exists() and not InboundSms.objects.exists()


def test_a_number_on_the_do_not_disturb_list_is_opted_out(fake_tencent):
    sms = queue_sms(phone="13800000304", template_code="appeal_closed", params={"code": "Q"}, purpose="appeal_closed")
    fake_tencent.fail_codes = ["FailedOperation.PhoneNumberInBlacklist"]
    assert send_one(sms.pk)[0] == "failed"
    assert OptOut.objects.get().source == OptOutSource.PROVIDER


def test_a_daily_limit_is_retried_tomorrow(fake_tencent):
    sms = queue_sms(phone="13800000305", template_code="appeal_closed", params={"code": "Q"}, purpose="appeal_closed")
    fake_tencent.fail_codes = ["LimitExceeded.PhoneNumberDailyLimit"]
    assert send_one(sms.pk)[0] == "retry"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.QUEUED
    assert timezone.localtime(sms.next_attempt_at).date() == timezone.localdate() + dt.timedelta(days=1)


def test_a_template_not_approved_gives_up_and_tells_the_administrators(fake_tencent, administrator):
    SmsTemplate.objects.filter(code="appeal_closed").update(provider_template_id="9999999")
    sms = queue_sms(phone="13800000306", template_code="appeal_closed", params={"code": "Q"}, purpose="appeal_closed")
    assert send_one(sms.pk)[0] == "failed"
    assert Notification.objects.filter(
        user=administrator, text__contains="FailedOperation.TemplateIncorrectOrUnapproved"
    ).exists()


def test_a_timeout_is_settled_by_the_status_pull(fake_tencent, settings):
    sms = queue_sms(phone="13800000307", template_code="appeal_closed", params={"code": "Q"}, purpose="appeal_closed")
    fake_tencent.hang_seconds = 2.0
    assert send_one(sms.pk)[0] == "ambiguous"
    fake_tencent.hang_seconds = 0
    (message,) = fake_tencent.messages
    fake_tencent.report(message)
    settings.SMS_STUCK_SENDING_SECONDS = 0
    assert sweep()["reconciled"] == 1
    sms.refresh_from_db()
    assert (sms.status, sms.provider_sid) == (SmsStatus.DELIVERED, message["serial"])
    assert "PullSmsSendStatusByPhoneNumber" in fake_tencent.calls
    assert len(fake_tencent.messages) == 1


def test_parameters_over_the_length_limit_are_refused_before_queueing(fake_tencent, settings):
    settings.TENCENT_SMS_PARAM_MAX_LENGTH = 12
    with pytest.raises(ValidationError):
        queue_sms(
            phone="13800000308",
            template_code="urge_reminder",
            params={"order": "GD20261231-000123", "when": "x"},
            purpose="other",
        )
    assert not OutboundSms.objects.exists()
