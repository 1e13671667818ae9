"""What every mainland provider does alike, run against each one's fake on loopback with the real
SDK: the send (signature, template, parameters, the row id carried along), a tampered request
refused, the reply that becomes a rating, a delivery report counted once, callbacks refused without
the token or from elsewhere, and the mapping of the provider's codes (opt-out, retry later, retry
tomorrow, give up and tell the administrators). What only one provider has (its reconciliation
call, its parameter rules, the admin page) is in ``test_aliyun.py`` and ``test_tencent.py``."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from sms.choices import OptOutSource, SmsPurpose, SmsStatus
from sms.models import DeliveryStatusEvent, InboundSms, OptOut, OutboundSms, SmsTemplate
from sms.outbox import send_one
from sms.services import queue_sms
from surveys.choices import Verdict
from surveys.models import Rating
from surveys.services.records import run_evaluation
from units.models import Notification

from . import fake_aliyun, fake_tencent
from .conftest import ALIYUN_CALLBACK_TOKEN, TENCENT_CALLBACK_TOKEN

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Provider:
    name: str
    token: str
    sign_name: str
    eval_template: str  # the provider's id of the 110 evaluation template
    closed_template: str  # … and of the appeal-closed one
    secret_setting: str  # the setting that signs every request
    signature_error: str  # what the provider answers a request signed with another secret
    sid: str  # the key of the provider's message id in the fake's messages
    row_id: str  # the key of the outbox row id the send carries along
    ok: dict  # the answer a callback gets
    foreign_address: str  # an address just outside the configured callback CIDRs
    opt_out: str
    retry_in_an_hour: str
    retry_tomorrow: str
    template_not_approved: str
    account_problem: str  # the account cannot send for now: retried, administrators told
    account_alert: str  # what they read
    phone: Callable[[str], str]  # how the provider receives a mainland number
    params: Callable[[dict], object]  # how it receives the template parameters
    reply: Callable[[str, str], object]  # the push of a citizen's reply
    report: Callable[..., dict]  # the carrier's report item of a message (fake, message, success)
    malformed: Callable[[dict], tuple]  # (report|reply, document) pairs refused with a 400, given a report item

    @property
    def report_path(self) -> str:
        return f"/sms/{self.name}/{self.token}/report/"

    @property
    def reply_path(self) -> str:
        return f"/sms/{self.name}/{self.token}/reply/"


def _aliyun_reply(text: str, phone: str) -> list[dict]:
    return [
        {
            "phone_number": phone,
            "send_time": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
            "content": text,
            "sign_name": fake_aliyun.SIGN_NAME,
            "dest_code": "1234",
            "sequence_id": 9000001,
        }
    ]


def _tencent_reply(text: str, phone: str) -> dict:
    return {"extend": "", "mobile": phone, "nationcode": "86", "sign": fake_tencent.SIGN_NAME, "text": text}


ALIYUN = Provider(
    name="aliyun",
    token=ALIYUN_CALLBACK_TOKEN,
    sign_name=fake_aliyun.SIGN_NAME,
    eval_template="SMS_480000110",
    closed_template="SMS_480000901",
    secret_setting="ALIYUN_SMS_ACCESS_KEY_SECRET",
    signature_error="SignatureDoesNotMatch",
    sid="biz_id",
    row_id="out_id",
    ok={"code": 0, "msg": "接收成功"},
    foreign_address="203.0.113.7",
    opt_out="isv.BLACK_KEY_CONTROL_LIMIT",
    retry_in_an_hour="isv.BUSINESS_LIMIT_CONTROL",
    retry_tomorrow="isv.DAY_LIMIT_CONTROL",
    template_not_approved="isv.SMS_TEMPLATE_ILLEGAL",
    account_problem="isv.AMOUNT_NOT_ENOUGH",
    account_alert="阿里云短信账户无法发送（isv.AMOUNT_NOT_ENOUGH）",
    phone=lambda local: local,
    params=lambda params: params,
    reply=_aliyun_reply,
    report=lambda fake, message, success=True: fake.report(
        message, success=success, code="DELIVERED" if success else "MK:0001"
    ),
    malformed=lambda item: (
        ("report", [{"success": True}]),
        ("reply", [{"phone_number": "13800000201"}]),
    ),
)

TENCENT = Provider(
    name="tencent",
    token=TENCENT_CALLBACK_TOKEN,
    sign_name=fake_tencent.SIGN_NAME,
    eval_template="2000110",
    closed_template="2000901",
    secret_setting="TENCENT_SMS_SECRET_KEY",
    signature_error="AuthFailure.SignatureFailure",
    sid="serial",
    row_id="session",
    ok={"result": 0, "errmsg": "OK"},
    foreign_address="127.0.0.2",
    opt_out="FailedOperation.PhoneNumberInBlacklist",
    retry_in_an_hour="LimitExceeded.PhoneNumberOneHourLimit",
    retry_tomorrow="LimitExceeded.PhoneNumberDailyLimit",
    template_not_approved="FailedOperation.TemplateIncorrectOrUnapproved",
    account_problem="FailedOperation.InsufficientBalanceInSmsPackage",
    account_alert="腾讯云短信应用无法发送（FailedOperation.InsufficientBalanceInSmsPackage）",
    phone=lambda local: "+86" + local,
    params=lambda params: list(params.values()),
    reply=lambda text, phone: {**_tencent_reply(text, phone), "time": int(time.time())},
    report=lambda fake, message, success=True: fake.report(message, success=success),
    malformed=lambda item: (
        ("report", [{**item, "report_status": "MAYBE"}]),
        ("reply", {**_tencent_reply("3", "13800000201"), "time": "yesterday"}),
    ),
)


@pytest.fixture(params=[ALIYUN, TENCENT], ids=lambda provider: provider.name)
def provider(request):
    """The provider's description and its fake, which the provider's settings point at."""
    return request.param, request.getfixturevalue(f"fake_{request.param.name}")


def _push(client, path, document, **extra):
    return client.post(path, json.dumps(document, ensure_ascii=False), content_type="application/json", **extra)


def _closed(phone: str) -> OutboundSms:
    return queue_sms(phone=phone, template_code="appeal_closed", params={"code": "Q1"}, purpose="appeal_closed")


@pytest.fixture
def sent_evaluation(provider, make_record):
    record = make_record(phone="13800000201")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    assert send_one(sms.pk)[0] == "sent"
    sms.refresh_from_db()
    return sms


def test_it_sends_the_evaluation_sms_with_signature_template_and_params(provider, sent_evaluation):
    spec, fake = provider
    (message,) = fake.messages
    assert fake.bad_signatures == 0
    assert (message["phone"], message["sign"], message["template"]) == (
        spec.phone("13800000201"),
        spec.sign_name,
        spec.eval_template,
    )
    assert message["params"] == spec.params(sent_evaluation.params) and "date" in sent_evaluation.params
    assert message[spec.row_id] == str(sent_evaluation.pk)
    assert (sent_evaluation.status, sent_evaluation.backend) == (SmsStatus.SENT, spec.name)
    assert sent_evaluation.provider_sid == message[spec.sid]


def test_the_fake_refuses_a_request_signed_with_another_secret(provider, settings):
    spec, fake = provider
    setattr(settings, spec.secret_setting, "not-the-secret")
    sms = _closed("13800000202")
    assert send_one(sms.pk)[0] == "failed"
    assert fake.bad_signatures == 1 and not fake.messages
    assert spec.signature_error in sms.sms_attempts.get().error_code


def test_it_sends_the_appeal_closed_sms(provider):
    spec, fake = provider
    sms = queue_sms(
        phone="13800000203", template_code="appeal_closed", params={"code": "ABCDEFGHJKMN"}, purpose="appeal_closed"
    )
    assert send_one(sms.pk)[0] == "sent"
    (message,) = fake.messages
    assert (message["template"], message["params"]) == (spec.closed_template, spec.params({"code": "ABCDEFGHJKMN"}))
    assert sms.purpose == SmsPurpose.APPEAL_CLOSED


def test_a_reply_3_becomes_one_dissatisfied_rating_with_a_callback(provider, client, sent_evaluation):
    spec, _fake = provider
    reply = spec.reply("3 民警态度差", "13800000201")
    first, second = _push(client, spec.reply_path, reply), _push(client, spec.reply_path, reply)
    assert first.status_code == second.status_code == 200
    assert first.json() == spec.ok
    inbound = InboundSms.objects.get()
    assert inbound.provider == spec.name and "13800000201" not in inbound.provider_message_id
    rating = Rating.objects.get()
    assert (rating.verdict, rating.text, rating.sms_id) == (Verdict.DISSATISFIED, "民警态度差", sent_evaluation.pk)
    assert rating.callback.due_at > rating.rated_at


def test_a_report_twice_counts_once_and_a_late_failure_does_not_undo_delivery(provider, client, sent_evaluation):
    spec, fake = provider
    (message,) = fake.messages
    delivered = [spec.report(fake, message)]
    assert _push(client, spec.report_path, delivered).json() == spec.ok
    assert _push(client, spec.report_path, delivered).status_code == 200
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.DELIVERED
    assert DeliveryStatusEvent.objects.filter(provider_sid=message[spec.sid]).count() == 1
    # A late, contradicting report (out of order) is kept but changes nothing.
    late = [spec.report(fake, message, success=False)]
    assert _push(client, spec.report_path, late).status_code == 200
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.DELIVERED
    assert DeliveryStatusEvent.objects.count() == 2
    assert DeliveryStatusEvent.objects.filter(applied=True).count() == 1


def test_it_refuses_callbacks_without_the_token_or_from_elsewhere_and_malformed_ones(
    provider, client, sent_evaluation, settings
):
    spec, fake = provider
    (message,) = fake.messages
    items = [spec.report(fake, message)]
    reply = spec.reply("3", "13800000201")
    assert _push(client, f"/sms/{spec.name}/guessed-token/report/", items).status_code == 403
    assert _push(client, f"/sms/{spec.name}/{spec.token}x/reply/", reply).status_code == 403
    assert _push(client, spec.report_path, items, REMOTE_ADDR=spec.foreign_address).status_code == 403
    assert _push(client, spec.reply_path, reply, REMOTE_ADDR=spec.foreign_address).status_code == 403
    assert client.post(spec.report_path, "not json", content_type="application/json").status_code == 400
    assert client.post(spec.reply_path, b"\xff\xfe", content_type="application/json").status_code == 400
    assert _push(client, spec.report_path, items[0]).status_code == 400  # one item, not the list
    for kind, document in spec.malformed(items[0]):
        path = spec.report_path if kind == "report" else spec.reply_path
        assert _push(client, path, document).status_code == 400, (kind, document)
    setattr(settings, f"{spec.name.upper()}_SMS_CALLBACK_CIDRS", [])
    assert _push(client, spec.report_path, items).status_code == 403  # no address configured: none is trusted
    assert not DeliveryStatusEvent.objects.exists() and not InboundSms.objects.exists()
    sent_evaluation.refresh_from_db()
    assert sent_evaluation.status == SmsStatus.SENT


def test_a_number_the_provider_blocks_is_opted_out(provider):
    spec, fake = provider
    sms = _closed("13800000204")
    fake.fail_codes = [spec.opt_out]
    assert send_one(sms.pk)[0] == "failed"
    opt = OptOut.objects.get()
    assert (opt.phone, opt.source) == ("+8613800000204", OptOutSource.PROVIDER)
    assert spec.opt_out in opt.note


def test_a_rate_limit_is_retried_an_hour_later_and_a_daily_limit_tomorrow(provider):
    spec, fake = provider
    sms = _closed("13800000205")
    fake.fail_codes = [spec.retry_in_an_hour]
    before = timezone.now()
    assert send_one(sms.pk)[0] == "retry"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.QUEUED
    assert sms.next_attempt_at >= before + dt.timedelta(minutes=59)
    OutboundSms.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
    fake.fail_codes = [spec.retry_tomorrow]
    assert send_one(sms.pk)[0] == "retry"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.QUEUED
    assert timezone.localtime(sms.next_attempt_at).date() == timezone.localdate() + dt.timedelta(days=1)
    OutboundSms.objects.filter(pk=sms.pk).update(next_attempt_at=timezone.now())
    assert send_one(sms.pk)[0] == "sent"
    assert len(fake.messages) == 1


def test_a_template_not_approved_gives_up_and_tells_the_administrators(provider, administrator):
    spec, _fake = provider
    SmsTemplate.objects.filter(code="appeal_closed").update(provider_template_id="9999999")
    sms = _closed("13800000206")
    assert send_one(sms.pk)[0] == "failed"
    sms.refresh_from_db()
    assert spec.template_not_approved in sms.last_error
    assert Notification.objects.filter(user=administrator, text__contains=spec.template_not_approved).exists()
    assert not OptOut.objects.exists()


def test_an_account_that_cannot_send_is_retried_and_the_administrators_are_told_once_a_day(provider, administrator):
    spec, fake = provider
    first, second = _closed("13800000210"), _closed("13800000211")
    fake.fail_codes = [spec.account_problem, spec.account_problem]
    assert send_one(first.pk)[0] == send_one(second.pk)[0] == "retry"
    first.refresh_from_db()
    assert first.status == SmsStatus.QUEUED and not OptOut.objects.exists()
    (alert,) = Notification.objects.filter(user=administrator, text__contains=spec.account_problem)
    assert spec.account_alert in alert.text


def test_a_template_can_go_through_the_provider_while_the_deployment_uses_another_backend(provider, settings):
    spec, fake = provider
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    # Saved as the admin saves it: the process that saves sees it at once (units.memo).
    SmsTemplate.objects.update_or_create(code="appeal_closed", defaults={"provider": spec.name})
    closed = _closed("13800000209")
    other = queue_sms(
        phone="13800000209", template_code="urge_reminder", params={"order": "1", "when": "2"}, purpose="other"
    )
    assert send_one(closed.pk)[0] == send_one(other.pk)[0] == "sent"
    closed.refresh_from_db()
    other.refresh_from_db()
    assert (closed.backend, other.backend) == (spec.name, "outbox")
    assert len(fake.messages) == 1
