"""Closing tells the citizen by SMS (surveys' outbox) and sends 12345 results back (feeds' delivery), once."""

from __future__ import annotations

import pytest

from feeds.models import FeedSource, ResultDelivery
from sms.models import OutboundSms
from workorders import services, tasks
from workorders.choices import Action
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def source_12345(db):
    return FeedSource.objects.create(
        code="12345", name="12345政务服务热线", kind="appeals", channel="12345", result_url="http://127.0.0.1:9/results"
    )


def finish(order, handler, center, reply="已责令整改，感谢监督。"):
    services.sign_for(order, actor=handler)
    services.submit_feedback(order, actor=handler, text="已整改", result="resolved", contact_method="phone")
    services.approve(order, actor=center)
    services.close(order, actor=center, reply=reply)
    services.close(order, actor=center, reply=reply)


def test_it_texts_the_citizen_once_when_an_order_closes(order, handler, center):
    finish(order, handler, center)
    sms = OutboundSms.objects.filter(template_code="appeal_closed")
    assert sms.count() == 1
    assert sms.get().params == {"code": order.appeal.tracking_code}
    assert order.events.filter(action=Action.NOTIFY_CITIZEN).count() == 1
    order.refresh_from_db()
    assert order.close_sms_queued_at and order.result_queued_at  # a hotline appeal sends no result back


def test_it_sends_a_12345_result_back_once_per_close(make_appeal, station, handler, center, source_12345):
    appeal = make_appeal(channel="12345", external_id="SZ20261122001")
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    finish(order, handler, center)
    assert ResultDelivery.objects.filter(appeal=appeal).count() == 1
    assert order.events.filter(action=Action.RESULT_SENT).count() == 1
    services.reopen(order, actor=center, reason="回访不满意")
    services.submit_feedback(order, actor=handler, text="再次整改", result="resolved", contact_method="visit")
    services.approve(order, actor=center)
    services.close(order, actor=center, reply="已再次整改。")
    assert list(
        ResultDelivery.objects.filter(appeal=appeal).values_list("sequence", flat=True).order_by("sequence")
    ) == [1, 2]
    # 12345 tells its citizens itself (the step switches, docs/sms.md): the result goes back, no SMS.
    assert OutboundSms.objects.filter(template_code="appeal_closed").count() == 0


def test_it_re_drives_missing_notices_once(order, handler, center):
    finish(order, handler, center)
    # As if the order had closed while the SMS layer was not installed yet.
    WorkOrder.objects.filter(pk=order.pk).update(close_sms_queued_at=None)
    assert tasks.sweep_close_notices_task() == 1
    assert tasks.sweep_close_notices_task() == 0
    assert OutboundSms.objects.filter(template_code="appeal_closed").count() == 1


def test_it_alerts_administrators_once_when_a_notice_cannot_be_queued(
    make_appeal, station, handler, center, administrator, settings
):
    from units.models import Notification

    settings.WORKORDERS_NOTICE_ALERT_AFTER = 3
    order = services.dispatch_appeal(make_appeal(phone="+86123"), unit=station, actor=center)  # not a valid number
    finish(order, handler, center)
    order.refresh_from_db()
    assert order.status == "closed" and order.close_sms_queued_at is None
    for _ in range(5):
        tasks.sweep_close_notices_task()
    order.refresh_from_db()
    assert order.notice_attempts == 5
    assert Notification.objects.filter(user=administrator, dedupe_key__startswith="wo-notice-stuck:").count() == 1
