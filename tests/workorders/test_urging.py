"""Urging: reminders at 50 %, 80 % and the deadline, claimed so that two runs remind once."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from units.models import Notification
from workorders import services, tasks
from workorders.choices import Action, UrgeStage
from workorders.deadlines import SHANGHAI

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def monday_order(appeal, station, center, handler):
    handler.mobile = "13800000101"
    handler.save()
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        order = services.dispatch_appeal(appeal, unit=station, actor=center)  # yellow: 3 working days
        services.sign_for(order, actor=handler)
    return order


def urge_notes(user) -> int:
    return Notification.objects.filter(user=user, dedupe_key__startswith="wo-urge:").count()


def test_it_sets_the_yellow_deadline_to_the_third_working_day(monday_order):
    assert monday_order.due_at == at(2026, 11, 26, 23, 59, 59)
    assert monday_order.next_urge_at == at(2026, 11, 25, 4, 29, 59, 500000)


def test_it_sends_nothing_before_half_time(monday_order, handler):
    with time_machine.travel(at(2026, 11, 24, 12, 0), tick=False):
        assert services.urge_due_orders() == 0
    assert urge_notes(handler) == 0


def test_it_reminds_once_at_half_time_even_when_run_twice(monday_order, handler):
    from sms.models import OutboundSms

    with time_machine.travel(at(2026, 11, 25, 9, 0), tick=False):
        assert tasks.urge_due_orders_task() == 1
        assert tasks.urge_due_orders_task() == 0
    monday_order.refresh_from_db()
    assert monday_order.urge_stage == UrgeStage.HALF
    assert urge_notes(handler) == 1
    assert monday_order.events.filter(action=Action.URGE).count() == 1
    assert OutboundSms.objects.filter(template_code="urge_reminder", purpose="urge_reminder").count() == 1


def test_it_marks_an_overdue_order_and_tells_leader_and_supervisor_once(monday_order, handler, leader, supervisor):
    with time_machine.travel(at(2026, 11, 27, 0, 5), tick=False):
        assert services.urge_due_orders() == 1  # jumps straight to the deadline stage
        assert services.urge_due_orders() == 0
    monday_order.refresh_from_db()
    assert monday_order.is_overdue and monday_order.urge_stage == UrgeStage.DUE and monday_order.next_urge_at is None
    assert urge_notes(handler) == 1
    assert Notification.objects.filter(user=leader, level="warning").count() == 1
    assert Notification.objects.filter(user=supervisor, level="warning").count() == 1
    assert monday_order.events.filter(action=Action.OVERDUE).count() == 1


def test_it_walks_through_every_stage(monday_order, handler):
    for moment in (at(2026, 11, 25, 9, 0), at(2026, 11, 26, 12, 0), at(2026, 11, 27, 1, 0)):
        with time_machine.travel(moment, tick=False):
            services.urge_due_orders()
            services.urge_due_orders()
    assert urge_notes(handler) == 3


def test_it_does_not_urge_an_order_waiting_for_review(monday_order, handler):
    services.submit_feedback(monday_order, actor=handler, text="已办结", result="resolved", contact_method="phone")
    with time_machine.travel(at(2026, 11, 27, 1, 0), tick=False):
        assert services.urge_due_orders() == 0


def test_it_reminds_again_for_a_new_deadline_after_an_extension(monday_order, handler, center):
    with time_machine.travel(at(2026, 11, 26, 12, 0), tick=False):
        services.urge_due_orders()  # 80 %
        services.request_extension(monday_order, actor=handler, days=2, reason="需等待鉴定结果")
        services.approve_extension(monday_order, actor=center)
    monday_order.refresh_from_db()
    assert monday_order.due_at == at(2026, 11, 30, 23, 59, 59)
    with time_machine.travel(at(2026, 12, 1, 0, 1), tick=False):
        assert services.urge_due_orders() == 1
        assert services.urge_due_orders() == 0
    monday_order.refresh_from_db()
    assert monday_order.is_overdue


def test_it_counts_red_orders_in_calendar_hours(make_appeal, station, center):
    with time_machine.travel(at(2026, 10, 1, 10, 0), tick=False):  # National Day: the clock still runs
        order = services.dispatch_appeal(make_appeal(severity="red"), unit=station, actor=center)
    assert order.sign_deadline == at(2026, 10, 1, 10, 30)
    assert order.due_at == at(2026, 10, 2, 10, 0)


def test_it_skips_the_national_day_holiday_for_a_blue_order(make_appeal, station, center):
    with time_machine.travel(at(2026, 9, 30, 16, 0), tick=False):
        order = services.dispatch_appeal(make_appeal(severity="blue"), unit=station, actor=center)
    # 8, 9, 10 (make-up Saturday), 12, 13 October.
    assert order.due_at == at(2026, 10, 13, 23, 59, 59)
    assert order.deadline_provisional is False


def test_it_marks_a_deadline_in_the_unknown_year_provisional_and_warns_admins(
    make_appeal, station, center, administrator
):
    with time_machine.travel(at(2026, 12, 29, 10, 0), tick=False):
        order = services.dispatch_appeal(make_appeal(severity="blue"), unit=station, actor=center)
    assert order.deadline_provisional is True
    assert order.due_at == at(2027, 1, 5, 23, 59, 59)  # 30, 31 Dec, then Mon–Fri guesses 1, 4, 5 Jan
    assert Notification.objects.filter(user=administrator, dedupe_key="wo-calendar-missing:2027").count() == 1


def test_it_tells_the_unit_once_when_a_red_order_is_not_signed_in_30_minutes(
    make_appeal, station, center, handler, leader
):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        order = services.dispatch_appeal(make_appeal(severity="red"), unit=station, actor=center)
    with time_machine.travel(at(2026, 11, 23, 9, 20), tick=False):
        assert services.urge_unsigned_orders() == 0
    with time_machine.travel(at(2026, 11, 23, 9, 31), tick=False):
        tasks.urge_due_orders_task()
        tasks.urge_due_orders_task()
    assert Notification.objects.filter(user=handler, dedupe_key__startswith="wo-sign-late:").count() == 1
    assert Notification.objects.filter(user=leader, dedupe_key__startswith="wo-sign-late:").count() == 1
    assert order.events.filter(action=Action.URGE).count() == 1


def test_it_uses_an_edited_severity_policy(make_appeal, station, center):
    from workorders.models import SeverityPolicy

    SeverityPolicy.objects.filter(severity="yellow").update(feedback_within_working_days=10)
    with time_machine.travel(at(2026, 9, 25, 9, 0), tick=False):
        order = services.dispatch_appeal(make_appeal(severity="yellow"), unit=station, actor=center)
    # 28, 29, 30 Sep, 8, 9, 10 (make-up), 12, 13, 14, 15 Oct.
    assert order.due_at == at(2026, 10, 15, 23, 59, 59)


def test_it_lets_dispatch_override_the_policy_with_working_days(make_appeal, station, center):
    with time_machine.travel(at(2026, 9, 30, 9, 0), tick=False):
        order = services.dispatch_appeal(make_appeal(severity="red"), unit=station, actor=center, working_days=5)
    assert order.due_at == at(2026, 10, 13, 23, 59, 59)


def test_it_catches_every_passed_deadline_in_one_run_whatever_the_batch_size(
    make_appeal, station, center, handler, leader, settings
):
    """After an outage the first run drains the whole backlog, batch after batch, and reminds once."""
    from sms.models import OutboundSms

    settings.WORKORDERS_URGE_BATCH = 5
    handler.mobile = "13800000102"
    handler.save()
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        orders = [services.dispatch_appeal(make_appeal(), unit=station, actor=center) for _ in range(23)]
        for order in orders:
            services.sign_for(order, actor=handler)
    with time_machine.travel(at(2026, 11, 27, 0, 5), tick=False):
        assert services.urge_due_orders(batch_size=5) == 23
        assert tasks.urge_due_orders_task() == 0  # the periodic run, batches of WORKORDERS_URGE_BATCH
    assert urge_notes(handler) == 23
    assert Notification.objects.filter(user=leader, level="warning", dedupe_key__startswith="wo-urge:").count() == 23
    assert OutboundSms.objects.filter(template_code="urge_reminder").count() == 23
    for order in orders:
        order.refresh_from_db()
        assert order.is_overdue and order.next_urge_at is None
        assert order.events.filter(action=Action.OVERDUE).count() == 1


def test_it_tells_every_unsigned_order_in_one_run_whatever_the_batch_size(
    make_appeal, station, center, leader, settings
):
    settings.WORKORDERS_URGE_BATCH = 5
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        orders = [services.dispatch_appeal(make_appeal(severity="red"), unit=station, actor=center) for _ in range(12)]
    with time_machine.travel(at(2026, 11, 23, 9, 31), tick=False):
        assert services.urge_unsigned_orders(batch_size=5) == 12
        assert services.urge_unsigned_orders() == 0
    assert Notification.objects.filter(user=leader, dedupe_key__startswith="wo-sign-late:").count() == 12
    assert sum(o.events.filter(action=Action.URGE).count() for o in orders) == 12
