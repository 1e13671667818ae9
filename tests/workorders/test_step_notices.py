"""Citizens hear at each step (docs/sms.md): receipt, dispatch, approved extension, closure —
per channel and step switchable, none for 12345/12389 when the platform informs, never to an
opted-out phone, once per occurrence."""

from __future__ import annotations

import pytest

from sms.models import OutboundSms, StepNotice
from sms.services import opt_out
from workorders import services

pytestmark = pytest.mark.django_db


def texts(code: str) -> list[str]:
    return list(OutboundSms.objects.filter(template_code=code).values_list("text", flat=True))


def finish(order, handler, center):
    services.sign_for(order, actor=handler)
    services.submit_feedback(order, actor=handler, text="已整改", result="resolved", contact_method="phone")
    services.approve(order, actor=center)
    services.close(order, actor=center, reply="已责令整改，感谢监督。")


def test_receipt_carries_the_tracking_code_and_the_public_track_link(make_appeal, settings):
    settings.PUBLIC_BASE_URL = "https://mydc.example.cn"
    appeal = make_appeal(channel="mayor_mailbox")
    assert texts("appeal_received") == [
        f"您的诉求已受理，查询码{appeal.tracking_code}，可在https://mydc.example.cn/track/查询进度。"
    ]
    appeal.save()  # a later save is no new receipt
    assert len(texts("appeal_received")) == 1


def test_no_receipt_when_the_channel_switch_is_off(make_appeal):
    # Saved as the admin's form saves it: the process that saves sees it at once (units.memo).
    StepNotice.objects.update_or_create(channel="hotline", defaults={"receipt": False})
    make_appeal(channel="hotline")
    make_appeal(channel="message_board")  # off by default
    assert texts("appeal_received") == []


def test_dispatch_names_the_unit_once_per_order(appeal, station, center):
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    services.dispatch_appeal(appeal, unit=station, actor=center)  # the same order back
    assert texts("appeal_dispatched") == [
        f"您反映的问题(查询码{appeal.tracking_code})已转{station.name}办理，请保持电话畅通。"
    ]
    assert OutboundSms.objects.get(template_code="appeal_dispatched").dedupe_key == f"appeal-dispatched:{order.pk}"


def test_an_approved_extension_tells_the_new_date(order, handler, center):
    services.sign_for(order, actor=handler)
    services.request_extension(order, actor=handler, days=2, reason="当事人外出")
    services.approve_extension(order, actor=center)
    services.approve_extension(order, actor=center)
    order.refresh_from_db()
    from django.utils import timezone

    new_date = f"{timezone.localtime(order.due_at):%-m月%-d日}"
    assert texts("appeal_extended") == [
        f"您反映的问题(查询码{order.appeal.tracking_code})办理时限延至{new_date}，感谢您的耐心。"
    ]


def test_switched_off_dispatch_and_extension_send_nothing(appeal, station, center, handler):
    StepNotice.objects.update_or_create(channel="hotline", defaults={"dispatch": False, "extension": False})
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    services.sign_for(order, actor=handler)
    services.request_extension(order, actor=handler, days=2, reason="当事人外出")
    services.approve_extension(order, actor=center)
    assert texts("appeal_dispatched") == [] and texts("appeal_extended") == []


def test_a_12345_appeal_hears_nothing_when_the_platform_informs(make_appeal, station, center, handler):
    appeal = make_appeal(channel="12345", external_id="GD-12345-0001")
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    finish(order, handler, center)
    assert not OutboundSms.objects.exists()
    order.refresh_from_db()
    assert order.close_sms_queued_at is not None  # nothing owed: the sweeper leaves it alone


def test_an_opted_out_phone_gets_no_step_sms(make_appeal, station, center, handler):
    opt_out(phone="+8613800005678", source="staff")
    appeal = make_appeal(channel="director_mailbox", phone="+8613800005678")
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    finish(order, handler, center)
    assert not OutboundSms.objects.exists()


def test_a_mailbox_letter_hears_all_four_steps(make_appeal, station, center, handler):
    appeal = make_appeal(channel="mayor_mailbox")
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    services.sign_for(order, actor=handler)
    services.request_extension(order, actor=handler, days=1, reason="需调取监控")
    services.approve_extension(order, actor=center)
    services.submit_feedback(order, actor=handler, text="已整改", result="resolved", contact_method="phone")
    services.approve(order, actor=center)
    services.close(order, actor=center, reply="已责令整改，感谢监督。")
    assert list(OutboundSms.objects.order_by("id").values_list("purpose", flat=True)) == [
        "appeal_received",
        "appeal_dispatched",
        "appeal_extended",
        "appeal_closed",
    ]
