"""Aliyun SMS: the real SDK against a fake dysmsapi on loopback (V3 signature checked), the
callback endpoints (token + source address), the error-code mapping and reconciliation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sms.choices import OptOutSource, SmsPurpose, SmsStatus
from sms.models import DeliveryStatusEvent, InboundSms, OptOut, OutboundSms, SmsTemplate
from sms.outbox import send_one, sweep
from sms.services import queue_sms
from surveys.choices import Verdict
from surveys.models import Rating
from surveys.services.records import run_evaluation
from units.models import Notification, User

from .fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, FakeAliyun

pytestmark = pytest.mark.django_db

TOKEN = "aliyun-callback-token-0123456789"
REPORT = f"/sms/aliyun/{TOKEN}/report/"
REPLY = f"/sms/aliyun/{TOKEN}/reply/"


@pytest.fixture
def fake_aliyun(settings, always_open):
    fake = FakeAliyun().start()
    settings.SMS_BACKEND = "aliyun"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = ACCESS_KEY_ID
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = ACCESS_KEY_SECRET
    settings.ALIYUN_SMS_SIGN_NAME = SIGN_NAME
    settings.ALIYUN_SMS_ENDPOINT = fake.endpoint
    settings.ALIYUN_SMS_PROTOCOL = "http"
    settings.ALIYUN_SMS_TIMEOUT_SECONDS = 1.0
    settings.ALIYUN_SMS_CALLBACK_TOKEN = TOKEN
    settings.ALIYUN_SMS_CALLBACK_CIDRS = ["127.0.0.0/8"]
    SmsTemplate.objects.filter(code="eval_110").update(provider_template_id="SMS_480000110")
    SmsTemplate.objects.filter(code="appeal_closed").update(provider_template_id="SMS_480000901")
    yield fake
    fake.stop()


def _push(client, path, items, **extra):
    return client.post(path, json.dumps(items, ensure_ascii=False), content_type="application/json", **extra)


@pytest.fixture
def sent_evaluation(fake_aliyun, make_record):
    record = make_record(phone="13800000201")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    assert send_one(sms.pk)[0] == "sent"
    sms.refresh_from_db()
    return sms


def test_it_sends_the_evaluation_sms_with_signature_template_code_and_params(sent_evaluation, fake_aliyun):
    (message,) = fake_aliyun.messages
    assert fake_aliyun.bad_signatures == 0
    assert (message["phone"], message["sign"], message["template"]) == ("13800000201", SIGN_NAME, "SMS_480000110")
    assert message["params"] == sent_evaluation.params and "date" in message["params"]
    assert message["out_id"] == str(sent_evaluation.pk)
    assert (sent_evaluation.status, sent_evaluation.backend) == (SmsStatus.SENT, "aliyun")
    assert sent_evaluation.provider_sid == message["biz_id"]


def test_the_fake_refuses_a_request_signed_with_another_secret(fake_aliyun, settings, make_record):
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "not-the-secret"
    record = make_record(phone="13800000202")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    assert send_one(sms.pk)[0] == "failed"
    sms.refresh_from_db()
    assert fake_aliyun.bad_signatures == 1 and not fake_aliyun.messages
    assert "SignatureDoesNotMatch" in sms.sms_attempts.get().error_code


def test_it_sends_the_appeal_closed_sms(fake_aliyun):
    sms = queue_sms(
        phone="13800000203", template_code="appeal_closed", params={"code": "ABCDEFGHJKMN"}, purpose="appeal_closed"
    )
    assert send_one(sms.pk)[0] == "sent"
    (message,) = fake_aliyun.messages
    assert (message["template"], message["params"]) == ("SMS_480000901", {"code": "ABCDEFGHJKMN"})
    assert sms.purpose == SmsPurpose.APPEAL_CLOSED


def test_a_reply_3_becomes_a_dissatisfied_rating_with_a_callback(client, sent_evaluation):
    up = [
        {
            "phone_number": "13800000201",
            "send_time": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
            "content": "3 民警态度差",
            "sign_name": SIGN_NAME,
            "dest_code": "1234",
            "sequence_id": 9000001,
        }
    ]
    first, second = _push(client, REPLY, up), _push(client, REPLY, up)
    assert first.status_code == second.status_code == 200
    assert first.json() == {"code": 0, "msg": "接收成功"}
    assert InboundSms.objects.get().provider == "aliyun"
    rating = Rating.objects.get()
    assert (rating.verdict, rating.text, rating.sms_id) == (Verdict.DISSATISFIED, "民警态度差", sent_evaluation.pk)
    assert rating.callback.due_at > rating.rated_at


def test_a_report_delivered_twice_is_counted_once_and_statuses_only_move_forward(client, sent_evaluation, fake_aliyun):
    (message,) = fake_aliyun.messages
    delivered = [fake_aliyun.report(message)]
    assert _push(client, REPORT, delivered).json() == {"code": 0, "msg": "接收成功"}
    assert _push(client, REPORT, delivered).status_code == 200
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.DELIVERED
    assert DeliveryStatusEvent.objects.filter(provider_sid=message["biz_id"]).count() == 1
    # A late, contradicting report (out of order) is kept but changes nothing.
    late = [fake_aliyun.report(message, success=False, code="MK:0001")]
    assert _push(client, REPORT, late).status_code == 200
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.DELIVERED
    assert not DeliveryStatusEvent.objects.get(provider_status="MK:0001").applied


def test_it_refuses_callbacks_without_the_token_or_from_elsewhere_and_malformed_ones(
    client, sent_evaluation, fake_aliyun, settings
):
    (message,) = fake_aliyun.messages
    items = [fake_aliyun.report(message)]
    assert _push(client, "/sms/aliyun/guessed-token/report/", items).status_code == 403
    assert _push(client, REPORT, items, REMOTE_ADDR="203.0.113.7").status_code == 403
    reply = [{"phone_number": "13800000201", "content": "3", "sequence_id": 1, "send_time": "", "dest_code": ""}]
    assert _push(client, f"/sms/aliyun/{TOKEN}x/reply/", reply).status_code == 403
    assert client.post(REPORT, "not json", content_type="application/json").status_code == 400
    assert _push(client, REPORT, {"biz_id": "x"}).status_code == 400
    assert _push(client, REPORT, [{"success": True}]).status_code == 400
    assert _push(client, REPLY, [{"phone_number": "13800000201"}]).status_code == 400
    settings.ALIYUN_SMS_CALLBACK_CIDRS = []
    assert _push(client, REPORT, items).status_code == 403  # no address configured: none is trusted
    assert not DeliveryStatusEvent.objects.exists() and not InboundSms.objects.exists()
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.SENT


def test_a_blacklisted_number_is_opted_out(fake_aliyun, make_record):
    record = make_record(phone="13800000204")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    fake_aliyun.fail_codes = ["isv.BLACK_KEY_CONTROL_LIMIT"]
    assert send_one(sms.pk)[0] == "failed"
    opt = OptOut.objects.get()
    assert (opt.phone, opt.source) == ("+8613800000204", OptOutSource.PROVIDER)
    assert "isv.BLACK_KEY_CONTROL_LIMIT" in opt.note


def test_flow_control_is_retried_later_and_a_daily_limit_tomorrow(fake_aliyun, make_record):
    record = make_record(phone="13800000205")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    fake_aliyun.fail_codes = ["isv.BUSINESS_LIMIT_CONTROL"]
    before = timezone.now()
    assert send_one(sms.pk)[0] == "retry"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.QUEUED
    assert sms.next_attempt_at >= before + dt.timedelta(minutes=59)
    OutboundSms.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
    fake_aliyun.fail_codes = ["isv.DAY_LIMIT_CONTROL"]
    assert send_one(sms.pk)[0] == "retry"
    sms.refresh_from_db()
    assert timezone.localtime(sms.next_attempt_at).date() == timezone.localdate() + dt.timedelta(days=1)
    OutboundSms.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
    assert send_one(sms.pk)[0] == "sent"
    assert len(fake_aliyun.messages) == 1


def test_a_template_not_approved_gives_up_and_tells_the_administrators(fake_aliyun, administrator):
    SmsTemplate.objects.filter(code="appeal_closed").update(provider_template_id="SMS_999")
    sms = queue_sms(phone="13800000206", template_code="appeal_closed", params={"code": "ABC"}, purpose="appeal_closed")
    assert send_one(sms.pk)[0] == "failed"
    sms.refresh_from_db()
    assert "isv.SMS_TEMPLATE_ILLEGAL" in sms.last_error
    assert Notification.objects.filter(user=administrator, text__contains="isv.SMS_TEMPLATE_ILLEGAL").exists()
    assert not OptOut.objects.exists()


def test_a_timeout_is_settled_by_query_send_details_and_the_report_brings_the_biz_id(
    client, fake_aliyun, make_record, settings
):
    record = make_record(phone="13800000207")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    fake_aliyun.hang_seconds = 2.0
    assert send_one(sms.pk)[0] == "ambiguous"
    fake_aliyun.hang_seconds = 0
    (message,) = fake_aliyun.messages
    settings.SMS_STUCK_SENDING_SECONDS = 0
    assert sweep()["reconciled"] == 1
    sms.refresh_from_db()
    assert sms.status == SmsStatus.SENT and sms.provider_sid == f"aliyun-out:{sms.pk}"
    assert "QuerySendDetails" in fake_aliyun.calls
    assert _push(client, REPORT, [fake_aliyun.report(message)]).status_code == 200
    sms.refresh_from_db()
    assert (sms.status, sms.provider_sid) == (SmsStatus.DELIVERED, message["biz_id"])
    assert len(fake_aliyun.messages) == 1


def test_parameters_outside_aliyun_rules_are_refused_before_queueing(fake_aliyun):
    with pytest.raises(ValidationError):
        queue_sms(phone="13800000208", template_code="appeal_closed", params={"code": "X" * 36}, purpose="other")
    with pytest.raises(ValidationError):
        queue_sms(
            phone="13800000208", template_code="appeal_closed", params={"code": "https://a.cn/x"}, purpose="other"
        )
    assert not OutboundSms.objects.exists()


def test_a_template_can_go_through_aliyun_while_the_deployment_uses_another_backend(fake_aliyun, settings):
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    SmsTemplate.objects.filter(code="appeal_closed").update(provider="aliyun")
    closed = queue_sms(phone="13800000209", template_code="appeal_closed", params={"code": "C1"}, purpose="other")
    other = queue_sms(
        phone="13800000209", template_code="urge_reminder", params={"order": "1", "when": "2"}, purpose="other"
    )
    assert send_one(closed.pk)[0] == send_one(other.pk)[0] == "sent"
    closed.refresh_from_db()
    other.refresh_from_db()
    assert (closed.backend, other.backend) == ("aliyun", "outbox")
    assert len(fake_aliyun.messages) == 1


def test_the_admin_shows_which_providers_are_configured_and_sends_a_test_message(
    client, administrator, fake_aliyun, settings
):
    settings.TENCENT_SMS_SECRET_ID = ""
    client.force_login(administrator)
    page = client.get("/admin/sms/smstemplate/providers/").content.decode()
    aliyun_row = page.split('class="provider-aliyun"')[1].split("</tr>")[0]
    tencent_row = page.split('class="provider-tencent"')[1].split("</tr>")[0]
    assert "已配置" in aliyun_row and "未配置" not in aliyun_row
    assert "未配置" in tencent_row and "TENCENT_SMS_SECRET_ID" in tencent_row
    assert "SECRET" not in aliyun_row and ACCESS_KEY_SECRET not in page
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"  # the test goes through the chosen one
    response = client.post(
        "/admin/sms/smstemplate/providers/",
        {"provider": "aliyun", "phone": "13800000299", "template": "appeal_closed"},
    )
    assert response.status_code == 302
    sms = OutboundSms.objects.get()
    assert (sms.purpose, sms.backend, sms.status) == (SmsPurpose.TEST, "aliyun", SmsStatus.SENT)
    (message,) = fake_aliyun.messages
    assert (message["phone"], message["template"]) == ("13800000299", "SMS_480000901")
    # A template whose longest values break Aliyun's rules is refused on the page, nothing sent.
    page = client.post(
        "/admin/sms/smstemplate/providers/",
        {"provider": "aliyun", "phone": "13800000299", "template": "survey_invite"},
    ).content.decode()
    assert "阿里云" in page and OutboundSms.objects.count() == 1
    client.force_login(User.objects.get(username="center"))
    assert client.get("/admin/sms/smstemplate/providers/").status_code in (302, 403)
