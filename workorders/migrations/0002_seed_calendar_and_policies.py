"""Seed the default severity policies and the working calendar the installed package knows."""

from datetime import date, timedelta

from django.db import migrations

POLICIES = {
    "red": (30, 24, None),
    "orange": (None, None, 1),
    "yellow": (None, None, 3),
    "blue": (None, None, 5),
}


def seed(apps, schema_editor):
    Policy = apps.get_model("workorders", "SeverityPolicy")
    CalendarDay = apps.get_model("workorders", "CalendarDay")
    for severity, (sign, hours, days) in POLICIES.items():
        Policy.objects.get_or_create(
            severity=severity,
            defaults={"sign_within_minutes": sign, "feedback_within_hours": hours, "feedback_within_working_days": days},
        )
    try:
        import chinese_calendar
    except ImportError:
        return
    rows = []
    year = 2020
    while True:
        day, last = date(year, 1, 1), date(year, 12, 31)
        try:
            while day <= last:
                on_holiday, name = chinese_calendar.get_holiday_detail(day)
                rows.append(
                    CalendarDay(
                        date=day,
                        is_workday=chinese_calendar.is_workday(day),
                        name=(name or "")[:40] if (on_holiday or day.weekday() >= 5) and name else "",
                        source="seeded",
                    )
                )
                day += timedelta(days=1)
        except NotImplementedError:
            rows = [r for r in rows if r.date.year < year]
            break
        year += 1
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
