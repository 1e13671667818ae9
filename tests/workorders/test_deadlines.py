"""Pure working-day arithmetic, against the 2026 calendar of the chinese-calendar package."""

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from workorders import deadlines
from workorders.deadlines import SHANGHAI


@pytest.fixture(scope="module")
def cal2026() -> dict:
    day, out = date(2026, 1, 1), {}
    while day.year == 2026:
        out[day] = chinese_calendar.is_workday(day)
        day += timedelta(days=1)
    return out


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_it_knows_the_2026_make_up_days_and_national_day(cal2026):
    for d in ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]:
        assert cal2026[date.fromisoformat(d)] is True, d
    for d in range(1, 8):
        assert cal2026[date(2026, 10, d)] is False


def test_it_skips_the_national_day_holiday(cal2026):
    # Dispatched on the last working day before the holiday: 1 working day is Thursday 8 October.
    dl = deadlines.add_working_days(at(2026, 9, 30, 15, 0), 1, cal2026)
    assert dl.at == at(2026, 10, 8, 23, 59, 59)
    assert dl.provisional is False


def test_it_counts_the_saturday_make_up_day(cal2026):
    # 9 Oct (Fri) + 1 working day = 10 Oct, a Saturday make-up working day.
    assert deadlines.add_working_days(at(2026, 10, 9, 10, 0), 1, cal2026).at == at(2026, 10, 10, 23, 59, 59)
    # Three working days from 30 Sep: 8 Oct, 9 Oct, 10 Oct (make-up Saturday); four reach Monday 12.
    assert deadlines.add_working_days(at(2026, 9, 30, 10, 0), 3, cal2026).at.date() == date(2026, 10, 10)
    assert deadlines.add_working_days(at(2026, 9, 30, 10, 0), 4, cal2026).at.date() == date(2026, 10, 12)


def test_it_matches_the_package_for_five_days(cal2026):
    expected = chinese_calendar.find_workday(5, date(2026, 9, 30))
    assert expected == date(2026, 10, 13)
    assert deadlines.add_working_days(at(2026, 9, 30, 9, 0), 5, cal2026).at.date() == expected


def test_it_counts_the_september_make_up_sunday(cal2026):
    # Fri 18 Sep + 1 working day: Sunday 20 Sep is a make-up working day, Saturday 19 is not.
    assert deadlines.add_working_days(at(2026, 9, 18, 9, 0), 1, cal2026).at.date() == date(2026, 9, 20)


def test_it_marks_a_deadline_past_the_known_calendar_provisional(cal2026):
    dl = deadlines.add_working_days(at(2026, 12, 30, 10, 0), 5, cal2026)
    # 31 Dec (known) then Mon–Fri guesses in January 2027: 1, 4, 5, 6 Jan.
    assert dl.at.date() == date(2027, 1, 6)
    assert dl.provisional is True


def test_it_uses_calendar_hours_for_red_orders():
    assert deadlines.add_hours(at(2026, 10, 1, 10, 0), 24).at == at(2026, 10, 2, 10, 0)
    assert deadlines.add_minutes(at(2026, 10, 1, 10, 0), 30).at == at(2026, 10, 1, 10, 30)


def test_it_adds_working_hours_across_the_holiday(cal2026):
    dl = deadlines.add_working_hours(at(2026, 9, 30, 12, 0), 24, cal2026)
    assert dl.at == at(2026, 10, 8, 12, 0)


def test_it_counts_working_days_between(cal2026):
    assert deadlines.working_days_between(date(2026, 9, 30), date(2026, 10, 12), cal2026) == 4


def test_it_spaces_the_urge_times():
    start, due = at(2026, 11, 2, 0, 0), at(2026, 11, 12, 0, 0)
    half, eighty, end = deadlines.urge_times(start, due)
    assert half == at(2026, 11, 7, 0, 0) and eighty == at(2026, 11, 10, 0, 0) and end == due


def test_it_says_next_year_is_missing_only_from_november():
    assert deadlines.next_year_missing(date(2026, 10, 31), {2026}) is None
    assert deadlines.next_year_missing(date(2026, 11, 1), {2026}) == 2027
    assert deadlines.next_year_missing(date(2026, 11, 22), {2026, 2027}) is None
