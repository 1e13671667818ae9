"""Working-day arithmetic for deadlines: pure functions, no database.

A calendar is a mapping ``date -> is_workday`` of the days we know (the ``CalendarDay`` table,
seeded from the chinese-calendar package and edited by administrators). Days beyond the last
known day fall back to Monday–Friday, and the result says ``provisional=True`` so that the order
can be recomputed once the State Council publishes the next year's holidays.

Counting rule ("自派单次日起计算"): N working days after a moment end at 23:59:59 local time of the
N-th working day *after* the day of that moment, whatever the hour of dispatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Deadline:
    at: datetime
    provisional: bool = False


def last_known_day(calendar: Mapping[date, bool]) -> date | None:
    return max(calendar) if calendar else None


def is_workday(day: date, calendar: Mapping[date, bool]) -> tuple[bool, bool]:
    """(is it a working day, is that a guess). Unknown days are Monday–Friday, flagged as a guess."""
    if day in calendar:
        return bool(calendar[day]), False
    return day.weekday() < 5, True


def nth_workday_after(day: date, n: int, calendar: Mapping[date, bool]) -> tuple[date, bool]:
    """The n-th working day strictly after ``day`` (n >= 1), and whether a guessed day was counted."""
    if n < 1:
        raise ValueError("n must be at least 1")
    guessed = False
    current = day
    found = 0
    while found < n:
        current += timedelta(days=1)
        working, guess = is_workday(current, calendar)
        guessed = guessed or guess
        if working:
            found += 1
    return current, guessed


def add_working_days(start: datetime, days: int, calendar: Mapping[date, bool], *, tz=SHANGHAI) -> Deadline:
    """End of the ``days``-th working day after the (local) day of ``start``."""
    local = start.astimezone(tz)
    day, guessed = nth_workday_after(local.date(), days, calendar)
    return Deadline(datetime.combine(day, END_OF_DAY, tzinfo=tz), provisional=guessed)


def add_hours(start: datetime, hours: float) -> Deadline:
    """Calendar hours (red orders: the clock never stops)."""
    return Deadline(start + timedelta(hours=hours))


def add_minutes(start: datetime, minutes: float) -> Deadline:
    return Deadline(start + timedelta(minutes=minutes))


def add_working_hours(start: datetime, hours: float, calendar: Mapping[date, bool], *, tz=SHANGHAI) -> Deadline:
    """Hours that only run on working days (whole days; nights of working days count)."""
    remaining = timedelta(hours=hours)
    guessed = False
    current = start.astimezone(tz)
    while True:
        working, guess = is_workday(current.date(), calendar)
        guessed = guessed or guess
        day_end = datetime.combine(current.date() + timedelta(days=1), time(0), tzinfo=tz)
        if working:
            left_today = day_end - current
            if remaining <= left_today:
                return Deadline(current + remaining, provisional=guessed)
            remaining -= left_today
        current = day_end


def working_days_between(first: date, last: date, calendar: Mapping[date, bool]) -> int:
    """Working days in (first, last]: how many working days have passed since ``first``."""
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        if is_workday(day, calendar)[0]:
            count += 1
    return count


def urge_times(start: datetime, due: datetime) -> list[datetime]:
    """When to remind: at 50 % and 80 % of the time allowed, and at the deadline."""
    span = due - start
    if span.total_seconds() <= 0:
        return [due, due, due]
    return [start + span * 0.5, start + span * 0.8, due]


def next_year_missing(today: date, calendar_years: set[int], *, warn_from=(11, 1)) -> int | None:
    """The next year, when today is on or after ``warn_from`` (month, day) and it has no calendar."""
    if (today.month, today.day) >= warn_from and today.year + 1 not in calendar_years:
        return today.year + 1
    return None
