"""Reading citizens' replies, matching them to the SMS they answer, opt-outs and follow-ups."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from sms.choices import InboundOutcome, SmsPurpose, SmsStatus
from sms.inbound import receive_inbound
from sms.models import InboundSms, OptOut, OutboundSms
from sms.outbox import send_one
from surveys.choices import Aspect, SkipReason, Verdict
from surveys.models import Callback, Rating, ReviewItem, ServiceRecord
from surveys.services.records import run_evaluation
from surveys.services.replies import parse_reply
from units.models import Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "kind", "verdict", "text"),
    [
        ("1", "rating", Verdict.SATISFIED, ""),
        ("１", "rating", Verdict.SATISFIED, ""),
        (" 2 ", "rating", Verdict.BASIC, ""),
        ("３", "rating", Verdict.DISSATISFIED, ""),
        ("3 民警没来", "rating", Verdict.DISSATISFIED, "民警没来"),
        ("3，等了两个小时", "rating", Verdict.DISSATISFIED, "等了两个小时"),
        ("满意", "rating", Verdict.SATISFIED, ""),
        ("基本满意", "rating", Verdict.BASIC, ""),
        ("不满意，态度差", "rating", Verdict.DISSATISFIED, "态度差"),
        ("0", "rating", Verdict.DECLINED, ""),
        ("TD", "opt_out", "", ""),
        ("td", "opt_out", "", ""),
        ("ＴＤ", "opt_out", "", ""),
        ("STOP", "opt_out", "", ""),
        ("退订", "opt_out", "", ""),
        ("12", "unclear", "", "12"),
        ("你们是谁", "unclear", "", "你们是谁"),
        ("", "unclear", "", ""),
    ],
)
def test_it_reads_replies_in_every_form(body, kind, verdict, text):
    parsed = parse_reply(body)
    assert (parsed.kind, parsed.verdict, parsed.text) == (kind, verdict, text)


@pytest.fixture
def evaluation(always_open, make_record):
    """An evaluation SMS delivered (outbox backend) to 13800001234 about a 110 dispatch."""
    record = make_record()
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    send_one(sms.pk)
    sms.refresh_from_db()
    return sms


def _reply(body, *, sid=None, phone="13800001234", at=None):
    sid = sid or f"SIM-{body}-{timezone.now().timestamp()}"
    return receive_inbound(provider="simulator", message_id=sid, phone=phone, body=body, received_at=at)[0]


def test_it_turns_a_dissatisfied_reply_into_a_callback_and_warns_the_unit_leader(evaluation, leader, station):
    inbound = _reply("3 民警没来")
    assert inbound.outcome == InboundOutcome.RATING
    rating = Rating.objects.get()
    assert (rating.unit, rating.verdict, rating.text) == (station, Verdict.DISSATISFIED, "民警没来")
    callback = Callback.objects.get()
    expected_due = rating.rated_at + dt.timedelta(hours=24)
    assert abs((callback.due_at - expected_due).total_seconds()) < 5
    assert Notification.objects.filter(user=leader).count() == 1


def test_it_records_a_second_reply_for_staff_instead_of_a_second_rating(evaluation):
    _reply("1")
    second = _reply("3")
    assert second.outcome == InboundOutcome.ALREADY_RATED
    assert Rating.objects.get().verdict == Verdict.SATISFIED
    assert ReviewItem.objects.get().inbound == second


def test_it_keeps_an_unclear_reply_for_staff(evaluation):
    inbound = _reply("请问怎么查进度")
    assert inbound.outcome == InboundOutcome.UNCLEAR
    assert inbound.matched_sms == evaluation
    assert ReviewItem.objects.get(inbound=inbound).reason == InboundOutcome.UNCLEAR
    assert not Rating.objects.exists()


def test_it_keeps_a_reply_with_nothing_to_match(evaluation):
    stranger = _reply("1", phone="13800009999")
    assert stranger.outcome == InboundOutcome.UNMATCHED
    assert InboundSms.objects.filter(pk=stranger.pk).exists()
    assert ReviewItem.objects.filter(inbound=stranger).exists()


def test_it_matches_only_within_the_reply_window(evaluation, settings):
    settings.SURVEYS_REPLY_WINDOW_HOURS = 72
    late = _reply("1", at=evaluation.sent_at + dt.timedelta(hours=73))
    assert late.outcome == InboundOutcome.UNMATCHED
    in_time = _reply("1", at=evaluation.sent_at + dt.timedelta(hours=71))
    assert in_time.outcome == InboundOutcome.RATING


def test_it_matches_the_latest_evaluation_sent_to_the_phone(always_open, make_record, settings):
    settings.SURVEYS_PHONE_CAP_DAYS = 0
    old = make_record(served_at=timezone.now() - dt.timedelta(days=3))
    run_evaluation(service_date=timezone.localdate() - dt.timedelta(days=3))
    first = OutboundSms.objects.get(service_record=old)
    send_one(first.pk)
    new = make_record()
    run_evaluation()
    second = OutboundSms.objects.get(service_record=new)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1), tick=False):
        send_one(second.pk)
        _reply("2")
    assert Rating.objects.get().sms == second


def test_it_honours_an_opt_out_from_then_on(evaluation, make_record, settings):
    settings.SURVEYS_PHONE_CAP_DAYS = 0
    assert _reply("TD").outcome == InboundOutcome.OPT_OUT
    assert _reply("STOP").outcome == InboundOutcome.OPT_OUT
    assert OptOut.objects.count() == 1
    later = make_record(served_at=timezone.now() - dt.timedelta(days=1, minutes=5))
    run = run_evaluation()
    later.refresh_from_db()
    assert later.skip_reason == SkipReason.OPTED_OUT
    assert not OutboundSms.objects.filter(service_record=later).exists()
    assert run.skipped_reasons == {SkipReason.OPTED_OUT: 1}


def test_it_asks_once_which_aspect_fell_short_when_enabled(evaluation, settings):
    settings.SURVEYS_FOLLOW_UP = True
    _reply("3")
    rating = Rating.objects.get()
    follow_up = OutboundSms.objects.get(purpose=SmsPurpose.FOLLOW_UP)
    assert follow_up.follow_up_of == rating
    assert follow_up.phone == evaluation.phone
    _reply("3", sid="again")  # a second "3" before the follow-up went out changes nothing
    assert OutboundSms.objects.filter(purpose=SmsPurpose.FOLLOW_UP).count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1), tick=False):
        send_one(follow_up.pk)
        answer = _reply("2 态度不好")
    assert answer.outcome == InboundOutcome.FOLLOW_UP
    rating.refresh_from_db()
    assert (rating.aspect, rating.aspect_text) == (Aspect.ATTITUDE, "2 态度不好")
    assert _reply("4").outcome == InboundOutcome.ALREADY_RATED


def test_it_sends_no_follow_up_when_disabled_or_satisfied(evaluation, settings):
    settings.SURVEYS_FOLLOW_UP = False
    _reply("3")
    assert not OutboundSms.objects.filter(purpose=SmsPurpose.FOLLOW_UP).exists()


def test_it_rates_an_appeal_from_a_reply_to_the_closing_notice(always_open, station):
    from intake.models import Appeal
    from sms.services import queue_sms

    appeal = Appeal.objects.create(channel="hotline", content="路灯坏了", unit=station)
    sms = queue_sms(
        phone="13800004321",
        template_code="appeal_closed",
        params={"code": appeal.tracking_code},
        purpose=SmsPurpose.APPEAL_CLOSED,
    )
    send_one(sms.pk)
    _reply("3 没有解决", phone="13800004321")
    rating = Rating.objects.get()
    assert (rating.appeal, rating.unit, rating.verdict) == (appeal, station, Verdict.DISSATISFIED)
    assert Callback.objects.filter(rating=rating).exists()


def test_it_reads_a_stored_reply_left_unread_from_the_sweeper(evaluation):
    from sms.inbound import read_pending_inbound as process_pending_inbound

    inbound = InboundSms.objects.create(
        provider="twilio",
        provider_message_id="SMunread",
        phone="+8613800001234",
        phone_hash=evaluation.phone_hash,
        body="1",
        received_at=timezone.now() - dt.timedelta(minutes=2),
    )
    assert process_pending_inbound() == 1
    assert process_pending_inbound() == 0
    inbound.refresh_from_db()
    assert inbound.outcome == InboundOutcome.RATING
    assert evaluation.status == SmsStatus.DELIVERED
    assert ServiceRecord.objects.count() == 1


def test_it_lets_staff_read_an_unclear_reply_as_a_verdict_once(client, evaluation, center):
    from surveys.choices import ReviewStatus

    inbound = _reply("三")
    item = ReviewItem.objects.get(inbound=inbound)
    client.force_login(center)
    assert "三" in client.get("/surveys/reviews/").content.decode()
    client.post("/surveys/reviews/", {"item": item.pk, "verdict": "dissatisfied", "note": ""})
    client.post("/surveys/reviews/", {"item": item.pk, "verdict": "dissatisfied", "note": ""})
    rating = Rating.objects.get()
    assert (rating.verdict, rating.text, rating.inbound) == (Verdict.DISSATISFIED, "三", inbound)
    assert Callback.objects.filter(rating=rating).count() == 1
    item.refresh_from_db()
    assert item.status == ReviewStatus.DONE and item.handled_by == center
    stranger = ReviewItem.objects.get(inbound=_reply("1", phone="13800009999"))
    client.post("/surveys/reviews/", {"item": stranger.pk, "verdict": "satisfied"})
    assert Rating.objects.count() == 1


def test_it_honours_an_opt_out_from_a_number_it_cannot_parse(always_open):
    inbound = _reply("STOP", phone="10690000")
    assert inbound.outcome == InboundOutcome.OPT_OUT
    assert OptOut.objects.get().phone_hash == inbound.phone_hash
