"""The SMS layer's contract: templates fit one segment, queue_sms stores and enqueues once."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from intake.phones import phone_hash
from sms.choices import SmsPurpose, SmsStatus
from sms.models import OutboundSms, SmsTemplate
from sms.services import queue_sms
from sms.texts import DEFAULT_TEMPLATES, TemplateMissing, render_text, segments_of

pytestmark = pytest.mark.django_db


def test_it_renders_every_template_with_its_longest_parameters_into_one_segment():
    assert SmsTemplate.objects.count() >= len(DEFAULT_TEMPLATES)
    for template in SmsTemplate.objects.all():
        text = render_text(template.text, template.sample_params)
        assert len(text) <= 70, (template.code, len(text), text)
        assert segments_of(text) == 1
        template.full_clean()


def test_it_refuses_a_template_edit_that_no_longer_fits_one_segment():
    template = SmsTemplate.objects.get(code="eval_110")
    template.text = template.text + "感谢您对公安工作的理解和支持，祝您生活愉快，工作顺利，阖家幸福！"
    with pytest.raises(ValidationError):
        template.full_clean()


def test_it_counts_segments_like_the_provider():
    assert segments_of("好" * 70) == 1
    assert segments_of("好" * 71) == 2
    assert segments_of("好" * 134) == 2
    assert segments_of("好" * 135) == 3
    assert segments_of("a" * 160) == 1
    assert segments_of("a" * 161) == 2


def test_it_queues_an_sms_once_per_dedupe_key_with_the_phone_encrypted(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = queue_sms(
            phone="13800001234",
            template_code="appeal_closed",
            params={"code": "AB23CD45"},
            purpose=SmsPurpose.APPEAL_CLOSED,
            dedupe_key="appeal-closed:1",
        )
        again = queue_sms(
            phone="13800001234",
            template_code="appeal_closed",
            params={"code": "AB23CD45"},
            purpose=SmsPurpose.APPEAL_CLOSED,
            dedupe_key="appeal-closed:1",
        )
    assert first.pk == again.pk
    assert len(callbacks) == 1
    assert OutboundSms.objects.count() == 1
    sms = OutboundSms.objects.get()
    assert sms.status == SmsStatus.QUEUED
    assert sms.phone == "+8613800001234"
    assert sms.phone_hash == phone_hash("+8613800001234")
    assert sms.text == "您反映的问题(查询码AB23CD45)已办结，可凭查询码查询答复。如有意见请回复3。"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM sms_outboundsms WHERE id = %s", [sms.pk])
        stored = cursor.fetchone()[0]
    assert "13800001234" not in stored


def test_it_refuses_a_bad_phone_or_an_unknown_template():
    with pytest.raises(ValidationError):
        queue_sms(
            phone="12345", template_code="urge_reminder", params={"order": "1", "when": "x"}, purpose="urge_reminder"
        )
    with pytest.raises(TemplateMissing):
        queue_sms(phone="13800001234", template_code="nope", params={}, purpose="other")
    with pytest.raises(KeyError):
        queue_sms(phone="13800001234", template_code="urge_reminder", params={}, purpose="urge_reminder")
    assert not OutboundSms.objects.exists()


def test_a_batch_queued_in_one_transaction_wakes_the_sender_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(300):
            queue_sms(
                phone=f"13800{n:06d}",
                template_code="appeal_closed",
                params={"code": f"AB{n:06d}"},
                purpose=SmsPurpose.APPEAL_CLOSED,
                dedupe_key=f"appeal-closed:{n}",
            )
    assert OutboundSms.objects.filter(status=SmsStatus.QUEUED).count() == 300
    assert len(callbacks) == 1


@pytest.fixture
def woken(monkeypatch):
    """The sender loops asked to start (the broker message itself is not sent)."""
    from sms import wake

    started = []
    monkeypatch.setattr(wake, "delay", lambda task, *args: started.append((task, args)))
    return started


def _queue_receipts(*numbers: int) -> None:
    for n in numbers:
        queue_sms(
            phone=f"13800{n:06d}",
            template_code="appeal_closed",
            params={"code": f"AB{n:06d}"},
            purpose=SmsPurpose.APPEAL_CLOSED,
            dedupe_key=f"wake:{n}",
        )


def _lease(seconds: float) -> None:
    """The default provider's loop holds its lease for ``seconds`` more (negative: lapsed)."""
    import datetime as dt

    from django.utils import timezone

    from sms.backends import get_backend
    from sms.models import SenderBucket

    SenderBucket.objects.update_or_create(
        sender=get_backend("").sender(), defaults={"loop_until": timezone.now() + dt.timedelta(seconds=seconds)}
    )


def test_with_no_loop_running_the_rows_provider_is_woken_once_per_transaction(
    django_capture_on_commit_callbacks, woken
):
    from sms.backends import get_backend
    from sms.wake import RUN_SENDER_TASK

    _lease(-1)  # a lease left by a dead loop has lapsed
    with django_capture_on_commit_callbacks(execute=True):
        _queue_receipts(1, 2, 3)
    assert woken == [(RUN_SENDER_TASK, (get_backend("").name,))]


def test_a_running_loop_is_not_asked_again_for_each_queued_sms(django_capture_on_commit_callbacks, woken):
    """The loop holding its lease claims the new row: no read of templates, no broker message."""
    _lease(60)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _queue_receipts(1)
    assert len(callbacks) == 1 and woken == []


def test_a_row_of_a_template_routed_to_another_provider_wakes_that_providers_loop(
    django_capture_on_commit_callbacks, woken, settings
):
    from sms.wake import RUN_SENDER_TASK

    settings.TENCENT_SMS_SECRET_ID, settings.TENCENT_SMS_SECRET_KEY = "AKIDtest", "test-secret"
    _lease(60)  # the default provider's loop is running; the other provider's is not
    template = SmsTemplate.objects.get(code="appeal_closed")
    template.provider = "tencent"
    template.save()
    with django_capture_on_commit_callbacks(execute=True):
        _queue_receipts(1)
    assert woken == [(RUN_SENDER_TASK, ("tencent",))]


def test_a_provider_not_configured_here_is_still_woken(django_capture_on_commit_callbacks, woken, settings):
    """Its sender key cannot be built without its credentials: the loop is asked to start, as
    before, and reports the configuration itself."""
    from sms.wake import RUN_SENDER_TASK

    settings.TENCENT_SMS_SECRET_ID = ""
    SmsTemplate.objects.filter(code="appeal_closed").update(provider="tencent")
    template = SmsTemplate.objects.get(code="appeal_closed")
    template.save()
    with django_capture_on_commit_callbacks(execute=True):
        _queue_receipts(1)
    assert woken == [(RUN_SENDER_TASK, ("tencent",))]
