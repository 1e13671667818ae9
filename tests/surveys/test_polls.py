"""Sampling surveys (民调): drawing the sample (opt-outs left out, no duplicates), an uploaded list,
the invitation SMS (one per phone, one segment with the link), one response per invitation,
the report figures, the public form and the API."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from intake.phones import phone_hash
from sms.catalogue import template_text
from sms.choices import SmsPurpose
from sms.models import OptOut, OutboundSms
from sms.texts import render_text, segments_of
from surveys.choices import SurveyStatus
from surveys.models import Survey, SurveyInvitation, SurveyResponse
from surveys.selectors import survey_report
from surveys.services.polls import (
    close_survey,
    create_survey,
    draw_sample,
    open_survey,
    sample_from_list,
    submit_survey_response,
)
from units.errors import Refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(center):
    return create_survey(title="2026年第四季度群众安全感调查", kind="public", actor=center)


@pytest.fixture
def records(make_record):
    """12 records from 8 phones (some phones served twice); one phone opted out."""
    now = timezone.now()
    phones = [f"1380000{n:04d}" for n in range(1, 9)]
    for i in range(12):
        make_record(phone=phones[i % 8], served_at=now - dt.timedelta(days=3))
    make_record(phone="13800009999", served_at=now - dt.timedelta(days=60))  # outside the period
    OptOut.objects.create(phone="+8613800000001", phone_hash=phone_hash("+8613800000001"))
    return phones


def _answers(survey, *, security="很安全", score="5", attitude="满意", text=""):
    q = list(survey.questions.order_by("position"))
    return {str(q[0].pk): security, str(q[1].pk): score, str(q[2].pk): attitude, str(q[3].pk): text}


def test_it_creates_the_standard_questionnaire(survey):
    kinds = list(survey.questions.order_by("position").values_list("kind", flat=True))
    assert kinds == ["single", "scale", "single", "text"]
    assert survey.status == SurveyStatus.DRAFT
    assert "安全感" in survey.questions.first().text


def test_it_samples_distinct_phones_of_the_period_without_opt_outs(survey, records, center):
    today = timezone.localdate()
    added = draw_sample(survey, size=100, actor=center, period_from=today - dt.timedelta(days=7), period_to=today)
    assert added == 7  # 8 phones in the period, one opted out
    hashes = list(SurveyInvitation.objects.filter(survey=survey).values_list("phone_hash", flat=True))
    assert len(hashes) == len(set(hashes)) == 7
    assert phone_hash("+8613800000001") not in hashes
    assert phone_hash("+8613800009999") not in hashes
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SAMPLING
    # Drawing again adds nobody already in the sample; the pool is used up.
    assert draw_sample(survey, size=100, actor=center, period_from=today - dt.timedelta(days=7)) == 0
    assert SurveyInvitation.objects.filter(survey=survey).count() == 7
    tokens = set(SurveyInvitation.objects.values_list("token", flat=True))
    assert len(tokens) == 7


def test_it_draws_at_most_the_requested_size_at_random(center, records):
    drawn = []
    for n in range(4):
        s = create_survey(title=f"抽样{n}", kind="public", actor=center)
        assert draw_sample(s, size=3, actor=center) == 3
        drawn.append(frozenset(SurveyInvitation.objects.filter(survey=s).values_list("phone_hash", flat=True)))
    assert len(set(drawn)) > 1  # four draws of 3 out of 8 are not all the same


def test_it_samples_an_uploaded_list_reporting_bad_lines(survey, center, records):
    lines = ["手机号,姓名", "13800001111,张三", "138 0000 1111", "12345", "", "+8613800000001", "13800002222"]
    result = sample_from_list(survey, lines=lines, actor=center)
    assert (result.added, result.duplicates, result.opted_out) == (2, 1, 1)
    assert [r["line"] for r in result.rejected] == [4]
    again = sample_from_list(survey, lines=["13800002222", "13800003333"], actor=center)
    assert (again.added, again.duplicates) == (1, 1)
    assert SurveyInvitation.objects.filter(survey=survey).count() == 3


def test_the_invitation_sms_fits_one_segment_with_the_link(settings):
    settings.PUBLIC_BASE_URL = "https://mydc.ljga.gov.cn:8443"
    text = render_text(template_text("survey_invite"), {"link": "https://mydc.ljga.gov.cn:8443/s/AbCdEfGhJk/"})
    assert len(text) <= 70 and segments_of(text) == 1


def test_it_sends_one_invitation_per_phone_and_opening_twice_sends_nothing_more(
    survey, records, center, settings, always_open
):
    settings.PUBLIC_BASE_URL = "https://mydc.ljga.gov.cn"
    draw_sample(survey, size=5, actor=center)
    assert open_survey(survey, actor=center) == 5
    assert open_survey(survey, actor=center) == 0
    sms = list(OutboundSms.objects.filter(purpose=SmsPurpose.SURVEY))
    assert len(sms) == 5
    invitation = SurveyInvitation.objects.filter(survey=survey).first()
    assert f"https://mydc.ljga.gov.cn/s/{invitation.token}/" in invitation.sms.text
    assert all(s.segments == 1 for s in sms)
    with pytest.raises(Refused):
        draw_sample(survey, size=5, actor=center)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN
    assert list(survey.events.values_list("action", flat=True)) == ["create", "sample", "open"]


def test_it_keeps_one_response_per_invitation_and_reports_the_figures(survey, records, center, always_open):
    draw_sample(survey, size=4, actor=center)
    open_survey(survey, actor=center)
    invitations = list(SurveyInvitation.objects.filter(survey=survey).order_by("id"))
    submit_survey_response(invitations[0], answers=_answers(survey, security="比较安全", score="4"))
    response, created = submit_survey_response(
        invitations[0], answers=_answers(survey, security="很安全", score="5", text="多巡逻")
    )
    assert not created and response.submissions == 2
    submit_survey_response(invitations[1], answers=_answers(survey, security="一般", score="3", attitude="不满意"))
    assert SurveyResponse.objects.count() == 2
    report = survey_report(survey)
    assert (report["invited"], report["responded"], report["rate"]) == (4, 2, 50.0)
    security, score, attitude, suggestions = report["questions"]
    assert {c["label"]: c["n"] for c in security["counts"]} == {
        "很安全": 1,
        "比较安全": 0,
        "一般": 1,
        "不太安全": 0,
        "很不安全": 0,
    }
    assert score["mean"] == 4.0
    assert suggestions["texts"] == ["多巡逻"]
    assert attitude["answered"] == 2


def test_it_refuses_incomplete_answers_and_answers_after_closing(survey, records, center, always_open):
    from django.core.exceptions import ValidationError

    draw_sample(survey, size=2, actor=center)
    open_survey(survey, actor=center)
    invitation = SurveyInvitation.objects.filter(survey=survey).first()
    answers = _answers(survey)
    first = survey.questions.order_by("position").first()
    answers[str(first.pk)] = "还行"
    with pytest.raises(ValidationError) as error:
        submit_survey_response(invitation, answers=answers)
    assert "请从选项中选择" in str(error.value)
    close_survey(survey, actor=center)
    close_survey(survey, actor=center)
    assert survey.events.filter(action="close").count() == 1
    with pytest.raises(Refused):
        submit_survey_response(invitation, answers=_answers(survey))


def test_the_public_form_takes_answers_at_the_personal_link(survey, records, center, always_open):
    draw_sample(survey, size=2, actor=center)
    open_survey(survey, actor=center)
    invitation = SurveyInvitation.objects.filter(survey=survey).first()
    client = Client()
    page = client.get(f"/s/{invitation.token}/")
    assert page.status_code == 200 and "安全感" in page.content.decode()
    bad = client.post(f"/s/{invitation.token}/", {})
    assert bad.status_code == 400 and "请回答此题" in bad.content.decode()
    done = client.post(f"/s/{invitation.token}/", _answers(survey, text="夜间多巡逻"))
    assert done.status_code == 200 and "感谢您的参与" in done.content.decode()
    assert "已提交过答卷" in client.get(f"/s/{invitation.token}/").content.decode()
    assert client.get("/s/notatoken0/").status_code == 404
    close_survey(survey, actor=center)
    assert client.get(f"/s/{invitation.token}/").status_code == 410


def test_staff_pages_and_api(survey, records, center, handler, supervisor, api, client, always_open):
    draw_sample(survey, size=3, actor=center)
    open_survey(survey, actor=center)
    submit_survey_response(SurveyInvitation.objects.filter(survey=survey).first(), answers=_answers(survey))
    client.force_login(center)
    page = client.get(f"/surveys/polls/{survey.pk}/").content.decode()
    assert "调查报告" in page and "echarts.min.js" in page and "33.3%" in page
    assert page.count('data-testid="invitation"') == 3 and "138****" in page and "13800000" not in page
    client.force_login(handler)
    assert client.get("/surveys/polls/").status_code == 403
    assert api.as_user(handler).get("/api/v1/surveys/").status_code == 403
    body = api.as_user(supervisor).get("/api/v1/surveys/").json()
    assert [(s["title"], s["invited"], s["responded"]) for s in body["results"]] == [(survey.title, 3, 1)]
    report = api.as_user(supervisor).get(f"/api/v1/surveys/{survey.pk}/report/").json()
    assert report["rate"] == 33.3 and report["questions"][0]["counts"][0] == {"label": "很安全", "n": 1}
    assert api.as_user(supervisor).get("/api/v1/surveys/999999/").status_code == 404


def test_center_staff_run_a_survey_from_the_pages(center, records, client, always_open):
    client.force_login(center)
    created = client.post("/surveys/polls/", {"title": "企业营商环境问卷", "kind": "enterprise"})
    assert created.status_code == 302
    survey = Survey.objects.get(title="企业营商环境问卷")
    assert "营商" in survey.questions.first().text
    client.post(f"/surveys/polls/{survey.pk}/", {"action": "sample", "source": "records", "size": 3})
    assert SurveyInvitation.objects.filter(survey=survey).count() == 3
    client.post(f"/surveys/polls/{survey.pk}/", {"action": "open"})
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN
    assert OutboundSms.objects.filter(purpose=SmsPurpose.SURVEY).count() == 3


def test_a_phone_that_opted_out_after_sampling_gets_no_invitation(survey, center, always_open):
    from sms.services import opt_out as add_opt_out

    sample_from_list(survey, lines=["13800001111", "13800002222"], actor=center)
    add_opt_out(phone="13800002222", source="sms", actor=None)
    assert open_survey(survey, actor=center) == 1
    assert OutboundSms.objects.filter(purpose=SmsPurpose.SURVEY).count() == 1
    assert OutboundSms.objects.get(purpose=SmsPurpose.SURVEY).phone == "+8613800001111"


def test_an_opt_out_stops_a_queued_invitation(survey, center, settings):
    from sms.choices import SmsStatus
    from sms.services import opt_out as add_opt_out

    settings.SMS_SEND_HOURS = "00:00-00:00:01"  # nothing goes out now: the invitation waits queued
    sample_from_list(survey, lines=["13800001111"], actor=center)
    open_survey(survey, actor=center)
    add_opt_out(phone="13800001111", source="sms", actor=None)
    assert OutboundSms.objects.get(purpose=SmsPurpose.SURVEY).status == SmsStatus.FAILED


def test_it_says_when_the_invitations_cannot_all_go_out_in_the_window(survey, center, settings, administrator):
    from units.models import Notification

    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    settings.SMS_SEGMENTS_PER_SECOND = 0.0001
    settings.SMS_BUCKET_SEGMENTS = 1
    sample_from_list(survey, lines=["13800001111", "13800002222", "13800003333"], actor=center)
    with time_machine.travel(timezone.now().replace(hour=15, minute=59), tick=False):
        open_survey(survey, actor=center)  # 23:59 local: a minute of window left
    event = survey.events.get(action="open")
    assert "无法在本发送时段内发完" in event.note
    assert Notification.objects.filter(user=administrator, dedupe_key=f"surveys:survey-window:{survey.pk}").count() == 1


def test_a_reply_to_a_survey_invitation_is_not_read_as_a_verdict(survey, center, make_record, always_open):
    from sms.choices import InboundOutcome
    from sms.inbound import receive_inbound
    from sms.outbox import send_one
    from surveys.models import Rating, ReviewItem
    from surveys.services.records import run_evaluation

    record = make_record(phone="13800001111")
    run_evaluation()
    send_one(OutboundSms.objects.get(service_record=record).pk)
    sample_from_list(survey, lines=["13800001111"], actor=center)
    open_survey(survey, actor=center)
    send_one(OutboundSms.objects.get(purpose=SmsPurpose.SURVEY).pk)
    inbound, _created = receive_inbound(provider="simulator", message_id="SIM-S1", phone="13800001111", body="3")
    assert inbound.outcome == InboundOutcome.UNMATCHED
    assert inbound.matched_sms.purpose == SmsPurpose.SURVEY
    assert not Rating.objects.exists()
    assert ReviewItem.objects.filter(inbound=inbound).exists()
