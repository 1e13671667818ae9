"""The working calendar as the pure deadline functions want it: a ``date -> is_workday`` mapping."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Max

from .choices import CalendarSource
from .models import CalendarDay

# Deadlines never reach further than this many calendar days ahead (60 working days + holidays).
LOOKAHEAD_DAYS = 200


def calendar_map(start: date, *, days: int = LOOKAHEAD_DAYS) -> dict[date, bool]:
    """Known days from ``start`` for ``days`` days (missing days are beyond the known calendar)."""
    rows = CalendarDay.objects.filter(date__gte=start - timedelta(days=1), date__lte=start + timedelta(days=days))
    return dict(rows.values_list("date", "is_workday"))


def known_years() -> set[int]:
    """Years with a full calendar (an entry for 31 December)."""
    return {d.year for d in CalendarDay.objects.filter(date__month=12, date__day=31).values_list("date", flat=True)}


def last_known_day() -> date | None:
    return CalendarDay.objects.aggregate(last=Max("date"))["last"]


def seed_year(year: int) -> int | None:
    """Fill one year from the chinese-calendar package; None when the package does not know it.

    Every day of the year is stored (so "beyond the known calendar" is simply "no row"). Days an
    administrator entered by hand are left as they are.
    """
    import chinese_calendar

    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = []
    try:
        day = first
        while day <= last:
            on_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
            workday = chinese_calendar.is_workday(day)
            name = ""
            if holiday_name and on_holiday:
                name = _holiday_label(holiday_name)
            elif holiday_name and workday and day.weekday() >= 5:
                name = f"{_holiday_label(holiday_name)}调休上班"
            rows.append(CalendarDay(date=day, is_workday=workday, name=name, source=CalendarSource.SEEDED))
            day += timedelta(days=1)
    except NotImplementedError:
        return None
    with transaction.atomic():
        admin_days = set(
            CalendarDay.objects.filter(date__year=year, source=CalendarSource.ADMIN).values_list("date", flat=True)
        )
        fresh = [r for r in rows if r.date not in admin_days]
        CalendarDay.objects.bulk_create(
            fresh,
            update_conflicts=True,
            unique_fields=["date"],
            update_fields=["is_workday", "name", "source"],
        )
    return len(fresh)


HOLIDAY_LABELS = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def _holiday_label(name: str) -> str:
    return HOLIDAY_LABELS.get(name, name)


def seed_known_years(*, first: int = 2004, last: int | None = None) -> dict[int, int | None]:
    """Seed every year the package knows, from ``first``; stops at the first unknown year."""
    result: dict[int, int | None] = {}
    year = first
    while last is None or year <= last:
        count = seed_year(year)
        result[year] = count
        if count is None:
            break
        year += 1
    return result
