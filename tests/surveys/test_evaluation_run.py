"""The daily evaluation run: which records get an SMS, when, and why the others do not."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from intake.phones import phone_hash
from sms.choices import SmsPurpose, SmsStatus
from sms.models import OptOut, OutboundSms
from sms.outbox import send_one
from surveys.choices import RecordState, SkipReason
from surveys.models import BusinessType, EvaluationRun
from surveys.services.records import run_evaluation

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2026, 11, 21, 8, 30, tzinfo=SHANGHAI)
YESTERDAY_NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)


def test_it_creates_one_sms_per_record_of_yesterday_and_nothing_on_a_second_run(make_record, city):
    a = make_record(phone="13800000001", served_at=YESTERDAY_NOON)
    b = make_record(phone="13800000002", served_at=YESTERDAY_NOON, business="122")
    make_record(phone="13800000003", served_at=YESTERDAY_NOON - dt.timedelta(days=1))  # the day before
    with time_machine.travel(MORNING, tick=False):
        run = run_evaluation()
        again = run_evaluation()
    assert run.pk == again.pk and EvaluationRun.objects.count() == 1
    assert (again.records, again.queued, again.skipped) == (2, 2, 0)
    assert OutboundSms.objects.count() == 2
    sms = OutboundSms.objects.get(service_record=a)
    assert sms.text == "请您对11月20日110接处警工作进行评价：满意回1，基本满意回2，不满意回3，不评价回0。"
    assert sms.purpose == SmsPurpose.EVALUATION and sms.segments == 1
    assert sms.send_after == dt.datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)  # not before sending hours
    assert "交通事故" in OutboundSms.objects.get(service_record=b).text
    a.refresh_from_db()
    assert (a.state, a.run) == (RecordState.QUEUED, run)


def test_it_takes_the_day_delay_days_back(make_record, settings, city):
    settings.SURVEYS_EVALUATION_DELAY_DAYS = 7  # Handan waits a week
    week_ago = make_record(served_at=YESTERDAY_NOON - dt.timedelta(days=6))
    make_record(phone="13800000009", served_at=YESTERDAY_NOON)
    with time_machine.travel(MORNING, tick=False):
        run = run_evaluation()
    assert run.service_date == dt.date(2026, 11, 14)
    assert list(OutboundSms.objects.values_list("service_record", flat=True)) == [week_ago.pk]


def test_it_skips_excluded_types_opted_out_phones_and_phones_contacted_recently(make_record, settings, city):
    settings.SURVEYS_PHONE_CAP_DAYS = 30
    BusinessType.objects.filter(code="case").update(is_evaluated=False)
    OptOut.objects.create(phone="+8613800000002", phone_hash=phone_hash("+8613800000002"))
    excluded = make_record(phone="13800000001", served_at=YESTERDAY_NOON, business="case")
    opted = make_record(phone="13800000002", served_at=YESTERDAY_NOON)
    first = make_record(phone="13800000003", served_at=YESTERDAY_NOON)
    same_phone = make_record(phone="13800000003", served_at=YESTERDAY_NOON + dt.timedelta(hours=1))
    with time_machine.travel(MORNING, tick=False):
        run = run_evaluation()
    assert run.queued == 1 and run.skipped == 3
    assert run.skipped_reasons == {
        SkipReason.NOT_EVALUATED: 1,
        SkipReason.OPTED_OUT: 1,
        SkipReason.RECENTLY_CONTACTED: 1,
    }
    for record, reason in [
        (excluded, SkipReason.NOT_EVALUATED),
        (opted, SkipReason.OPTED_OUT),
        (same_phone, SkipReason.RECENTLY_CONTACTED),
    ]:
        record.refresh_from_db()
        assert (record.state, record.skip_reason) == (RecordState.SKIPPED, reason)
    assert list(OutboundSms.objects.values_list("service_record", flat=True)) == [first.pk]


def test_it_holds_the_per_phone_cap_across_days(make_record, settings, city):
    settings.SURVEYS_PHONE_CAP_DAYS = 7
    make_record(served_at=YESTERDAY_NOON)
    with time_machine.travel(MORNING, tick=False):
        run_evaluation()
    five_days_later = make_record(served_at=YESTERDAY_NOON + dt.timedelta(days=5))
    with time_machine.travel(MORNING + dt.timedelta(days=5), tick=False):
        assert run_evaluation().skipped_reasons == {SkipReason.RECENTLY_CONTACTED: 1}
    eight_days_later = make_record(served_at=YESTERDAY_NOON + dt.timedelta(days=8))
    with time_machine.travel(MORNING + dt.timedelta(days=8), tick=False):
        assert run_evaluation().queued == 1
    five_days_later.refresh_from_db()
    eight_days_later.refresh_from_db()
    assert five_days_later.state == RecordState.SKIPPED
    assert eight_days_later.state == RecordState.QUEUED


def test_it_takes_in_records_that_arrive_after_the_run(make_record, city):
    make_record(phone="13800000001", served_at=YESTERDAY_NOON)
    with time_machine.travel(MORNING, tick=False):
        run_evaluation()
    make_record(phone="13800000002", served_at=YESTERDAY_NOON)
    with time_machine.travel(MORNING + dt.timedelta(hours=2), tick=False):
        run = run_evaluation()
    assert (run.records, run.queued) == (2, 2)
    assert OutboundSms.objects.count() == 2


def test_it_warns_before_a_batch_that_cannot_fit_its_sending_window(make_record, settings, administrator):
    settings.SMS_SEGMENTS_PER_SECOND = 0.001  # about 40 segments in the 11-hour window
    settings.SMS_BUCKET_SEGMENTS = 1
    for i in range(50):
        make_record(phone=f"138000{i:05d}", served_at=YESTERDAY_NOON)
    with time_machine.travel(MORNING, tick=False):
        run = run_evaluation()
    assert run.queued == 50
    assert "无法在20:00前发完" in run.window_warning
    assert administrator.notifications.filter(text=run.window_warning).count() == 1
    settings.SMS_SEGMENTS_PER_SECOND = 10
    with time_machine.travel(MORNING, tick=False):
        assert run_evaluation().window_warning == ""


def test_it_queues_for_the_next_morning_when_run_after_sending_hours(make_record, city):
    make_record(served_at=YESTERDAY_NOON)
    with time_machine.travel(dt.datetime(2026, 11, 21, 20, 30, tzinfo=SHANGHAI), tick=False):
        run = run_evaluation()
        sms = OutboundSms.objects.get()
        assert send_one(sms.pk)[0] == "not_due"
    assert sms.send_after == dt.datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)
    assert run.send_after == sms.send_after
    with time_machine.travel(dt.datetime(2026, 11, 22, 9, 1, tzinfo=SHANGHAI), tick=False):
        assert send_one(sms.pk)[0] == "sent"
    sms.refresh_from_db()
    assert sms.status == SmsStatus.DELIVERED


def test_it_runs_from_the_management_command_for_a_given_date(make_record, city):
    make_record(served_at=YESTERDAY_NOON)
    call_command("run_evaluation", "--date", "2026-11-20")
    call_command("run_evaluation", "--date", "2026-11-20")
    assert OutboundSms.objects.count() == 1
    assert EvaluationRun.objects.get().service_date == dt.date(2026, 11, 20)
    assert timezone.localtime(OutboundSms.objects.get().created_at).date() >= dt.date(2026, 11, 20)
