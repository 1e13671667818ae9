"""Tencent Cloud SMS, what only it has (the shared behaviour of every provider is
``test_providers.py``): the template parameters sent in the template's order, settling a timeout
with the status pull, and its configurable parameter length."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sms.choices import SmsStatus
from sms.models import OutboundSms
from sms.outbox import send_one, sweep
from sms.services import queue_sms

pytestmark = pytest.mark.django_db


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


def test_a_timeout_towards_the_carrier_is_ambiguous_and_left_to_reconciliation(fake_tencent):
    sms = queue_sms(phone="13800000309", template_code="appeal_closed", params={"code": "Q"}, purpose="appeal_closed")
    fake_tencent.fail_codes = ["InternalError.Timeout"]
    assert send_one(sms.pk)[0] == "ambiguous"
    sms.refresh_from_db()
    assert sms.needs_reconciliation
