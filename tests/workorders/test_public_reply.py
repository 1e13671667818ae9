"""The public reply is written, not leaked: only the reply the center confirmed leaves the platform."""

from __future__ import annotations

import pytest

from feeds.models import FeedSource, ResultDelivery
from intake.models import Category
from sms.models import OutboundSms, SmsTemplate
from workorders import services
from workorders.models import ReplyTemplate

pytestmark = pytest.mark.django_db

FEEDBACK = "内部：摊主系辖区治安积极分子王某亲属，已口头警告，未处罚。"
PUBLIC = "您反映的夜市烧烤油烟问题已由属地派出所会同城管整改，感谢您的监督。"


@pytest.fixture
def source_12345(db):
    from sms.models import StepNotice

    # A bureau that also tells 12345 callers itself: the close sends an SMS beside the result.
    StepNotice.objects.update_or_create(channel="12345", defaults={"platform_informs": False, "closure": True})
    return FeedSource.objects.create(
        code="12345", name="12345政务服务热线", kind="appeals", channel="12345", result_url="http://127.0.0.1:9/results"
    )


@pytest.fixture
def submitted(make_appeal, station, center, handler, source_12345):
    appeal = make_appeal(channel="12345", external_id="SZ20260301009", phone="+8613800002468")
    order = services.dispatch_appeal(appeal, unit=station, actor=center)
    services.sign_for(order, actor=handler)
    services.submit_feedback(order, actor=handler, text=FEEDBACK, result="resolved", contact_method="phone")
    return order


def test_a_close_publishes_the_confirmed_reply_not_the_feedback_everywhere(client, submitted, center):
    # An administrator edited the closure SMS to carry the answer.
    SmsTemplate.objects.update_or_create(
        code="appeal_closed",
        defaults={"name": "诉求办结告知", "text": "您反映的问题(查询码{code})已办结：{reply}", "is_active": True},
    )
    client.force_login(center)
    r = client.post(
        f"/workorders/{submitted.pk}/approve-close/",
        {"reply": PUBLIC, "confirm": "on", "next": "/workorders/review/"},
    )
    assert r.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "closed" and submitted.reply_text == PUBLIC
    # /track/ (the appeal's public reply)
    client.logout()
    page = client.post("/track/", {"code": submitted.appeal.tracking_code, "phone": "13800002468"}).content.decode()
    assert PUBLIC in page and FEEDBACK not in page
    # The closure SMS (outbox row)
    sms = OutboundSms.objects.get(template_code="appeal_closed")
    assert PUBLIC in sms.text and FEEDBACK not in sms.text
    # The 12345 result delivery payload
    delivery = ResultDelivery.objects.get(appeal=submitted.appeal)
    assert PUBLIC in str(delivery.payload) and FEEDBACK not in str(delivery.payload)


def test_the_close_service_requires_an_explicit_public_reply(submitted, center):
    from django.core.exceptions import ValidationError

    services.approve(submitted, actor=center)
    with pytest.raises(ValidationError):
        services.close(submitted, actor=center, reply="   ")
    submitted.refresh_from_db()
    assert submitted.status == "approved"
    assert not ResultDelivery.objects.filter(appeal=submitted.appeal).exists()


def test_approve_and_close_from_review_requires_the_reply_box(client, submitted, center):
    client.force_login(center)
    review = client.get("/workorders/review/").content.decode()
    # 通过并办结 opens the box; it is not a form that closes at once.
    assert f"/workorders/{submitted.pk}/approve-close/" not in review
    assert f"/workorders/{submitted.pk}/reply/" in review
    box = client.get(f"/workorders/{submitted.pk}/reply/", HTTP_HX_REQUEST="true").content.decode()
    assert 'name="reply"' in box and FEEDBACK in box and 'data-testid="reply-source"' in box
    # Without the reply (or without the confirmation) nothing is approved or closed, the text is kept.
    r = client.post(f"/workorders/{submitted.pk}/approve-close/", {"reply": "", "confirm": "on"})
    assert r.status_code == 422
    r = client.post(f"/workorders/{submitted.pk}/approve-close/", {"reply": PUBLIC})
    assert r.status_code == 422 and PUBLIC in r.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == "feedback_submitted"


def test_the_reply_box_starts_from_the_categorys_template(client, make_appeal, station, center, handler):
    category = Category.objects.create(code="zhian", name="治安管理")
    ReplyTemplate.objects.create(category=None, text="默认答复。")
    ReplyTemplate.objects.create(category=category, text="您反映的{category}问题已由{unit}于{date}处理完毕。{oops}")
    order = services.dispatch_appeal(make_appeal(category=category), unit=station, actor=center)
    services.sign_for(order, actor=handler)
    services.submit_feedback(order, actor=handler, text=FEEDBACK, result="resolved", contact_method="phone")
    text, source = services.reply_prefill(order)
    assert source == "template" and text.startswith(f"您反映的治安管理问题已由{station.name}于") and "{oops}" in text
    client.force_login(center)
    box = client.get(f"/workorders/{order.pk}/reply/").content.decode()
    assert f"已由{station.name}于" in box
    other = services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    assert services.reply_prefill(other) == ("默认答复。", "template")
