"""Periods: half-open [start, end) intervals of local (Asia/Shanghai) days.

Every metric is computed over such an interval, so that a day, a week or a month is counted
once and consecutive periods never overlap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone


@dataclass(frozen=True)
class Period:
    """Local dates ``first`` (included) to ``until`` (excluded)."""

    first: dt.date
    until: dt.date

    def __post_init__(self) -> None:
        if self.until <= self.first:
            raise ValueError("a period ends after it starts")

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.until)

    @property
    def last(self) -> dt.date:
        """The last day included."""
        return self.until - dt.timedelta(days=1)

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.until - self.first).days)]

    def label(self) -> str:
        if self.until - self.first == dt.timedelta(days=1):
            return f"{self.first:%Y-%m-%d}"
        return f"{self.first:%Y-%m-%d} ~ {self.last:%Y-%m-%d}"


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def local_today() -> dt.date:
    return timezone.localdate()


def day(d: dt.date) -> Period:
    return Period(d, d + dt.timedelta(days=1))


def week_of(d: dt.date) -> Period:
    """The Monday-to-Sunday week containing ``d``."""
    monday = d - dt.timedelta(days=d.weekday())
    return Period(monday, monday + dt.timedelta(days=7))


def month_of(d: dt.date) -> Period:
    first = d.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, nxt)


def previous_month(d: dt.date) -> Period:
    return month_of(d.replace(day=1) - dt.timedelta(days=1))


def to_date(today: dt.date) -> dict[str, Period]:
    """The dashboard's presets: today, this week so far, this month so far (all end tomorrow)."""
    tomorrow = today + dt.timedelta(days=1)
    return {
        "today": Period(today, tomorrow),
        "week": Period(today - dt.timedelta(days=today.weekday()), tomorrow),
        "month": Period(today.replace(day=1), tomorrow),
    }


def quarter_of(d: dt.date) -> Period:
    """The calendar quarter containing ``d``."""
    first = d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return Period(first, (first + dt.timedelta(days=95)).replace(day=1))


def presets(today: dt.date) -> dict[str, Period]:
    """The period picker's choices: those of ``to_date`` plus this quarter and this year so far."""
    tomorrow = today + dt.timedelta(days=1)
    return {
        **to_date(today),
        "quarter": Period(quarter_of(today).first, tomorrow),
        "year": Period(today.replace(month=1, day=1), tomorrow),
    }
