"""The working calendar: seeded from chinese-calendar, edited by administrators, warnings for next year."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core.management import call_command

from units.models import Notification
from workorders import services, tasks
from workorders.deadlines import SHANGHAI
from workorders.models import CalendarDay
from workorders.workdays import known_years, seed_year

pytestmark = pytest.mark.django_db


def test_it_seeds_2026_with_holidays_and_make_up_days(city):
    CalendarDay.objects.filter(date__year=2026).delete()
    assert seed_year(2026) == 365
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).is_workday is True
    assert "调休" in CalendarDay.objects.get(date=date(2026, 10, 10)).name
    assert seed_year(2026) == 365  # again: same rows
    assert CalendarDay.objects.filter(date__year=2026).count() == 365


def test_it_reports_an_unknown_year_without_crashing(city, capsys):
    assert seed_year(2027) is None
    call_command("seed_calendar", "--year", "2027")
    assert "2027" in capsys.readouterr().out


def test_it_keeps_an_administrators_day_when_seeding_again(administrator):
    services.set_calendar_day(actor=administrator, day=date(2026, 12, 31), is_workday=False, name="临时调整")
    seed_year(2026)
    day = CalendarDay.objects.get(date=date(2026, 12, 31))
    assert day.is_workday is False and day.source == "admin"


def test_it_warns_administrators_from_november_once_per_year(administrator):
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert tasks.check_calendar_task() is None
    with time_machine.travel(datetime(2026, 11, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert tasks.check_calendar_task() == 2027
        assert tasks.check_calendar_task() == 2027
    assert Notification.objects.filter(user=administrator, dedupe_key="wo-calendar-missing:2027").count() == 1


def test_it_stops_warning_once_the_year_is_entered(administrator):
    services.set_calendar_day(actor=administrator, day=date(2027, 12, 31), is_workday=True)
    assert 2027 in known_years()
    with time_machine.travel(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert services.warn_missing_calendar() is None


def test_it_lets_only_administrators_edit_days(client, center, administrator):
    client.force_login(center)
    assert client.post("/workorders/calendar/", {"date": "2027-01-01", "is_workday": "0"}).status_code == 403
    client.force_login(administrator)
    r = client.post("/workorders/calendar/", {"date": "2027-01-01", "is_workday": "0", "name": "元旦"})
    assert r.status_code == 302
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).name == "元旦"
    page = client.get("/workorders/calendar/?year=2026").content.decode()
    assert "国庆节" in page and "2027 年节假日安排尚未录入" in page


def test_it_recounts_a_provisional_deadline_once_next_year_is_entered(make_appeal, station, center, administrator):
    from workorders.choices import Action

    with time_machine.travel(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI), tick=False):
        order = services.dispatch_appeal(make_appeal(severity="blue"), unit=station, actor=center)
    assert order.deadline_provisional and order.due_at.date() == date(2027, 1, 5)
    # The administrator enters New Year 2027: 1–3 January off, Monday 4 January a holiday too.
    with time_machine.travel(datetime(2026, 12, 30, 9, 0, tzinfo=SHANGHAI), tick=False):
        services.set_calendar_day(actor=administrator, day=date(2027, 1, 1), is_workday=False, name="元旦")
        services.set_calendar_day(actor=administrator, day=date(2027, 1, 4), is_workday=False, name="元旦")
        for day in range(2, 32):
            d = date(2027, 1, day)
            if day != 4:
                services.set_calendar_day(actor=administrator, day=d, is_workday=d.weekday() < 5)
        for month in range(2, 13):
            last = date(2027, month, 28)
            services.set_calendar_day(actor=administrator, day=last, is_workday=last.weekday() < 5)
        services.set_calendar_day(actor=administrator, day=date(2027, 12, 31), is_workday=True)
    order.refresh_from_db()
    # 30, 31 Dec, then 5, 6, 7 Jan (1 and 4 January are holidays now).
    assert order.due_at == datetime(2027, 1, 7, 23, 59, 59, tzinfo=SHANGHAI)
    assert order.deadline_provisional is False
    assert order.events.filter(action=Action.RECOMPUTE).count() >= 1
    assert services.recompute_provisional_deadlines() == 0  # again: nothing left to recount
