"""Aliyun SMS, what only it has (the shared behaviour of every provider is ``test_providers.py``):
settling a timeout with QuerySendDetails and the report that brings the BizId, its parameter rules,
and the admin page of the configured providers with its test message."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from sms.choices import SmsPurpose, SmsStatus
from sms.models import OutboundSms
from sms.outbox import send_one, sweep
from sms.services import queue_sms
from surveys.services.records import run_evaluation
from units.models import User

from .conftest import ALIYUN_CALLBACK_TOKEN
from .fake_aliyun import ACCESS_KEY_SECRET

pytestmark = pytest.mark.django_db

REPORT = f"/sms/aliyun/{ALIYUN_CALLBACK_TOKEN}/report/"


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
    report = json.dumps([fake_aliyun.report(message)], ensure_ascii=False)
    assert client.post(REPORT, report, content_type="application/json").status_code == 200
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
