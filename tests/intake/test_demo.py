"""The demo data: believable, every channel, repeats, risk words, enterprises; loading twice adds nothing."""

import pytest

from intake import demo
from intake.choices import AppealStatus, Channel
from intake.models import Appeal, AppealEvent

pytestmark = pytest.mark.django_db


def test_it_loads_a_monday_morning_once(city):
    demo.load()
    count, events = Appeal.objects.count(), AppealEvent.objects.count()
    demo.load()
    assert (Appeal.objects.count(), AppealEvent.objects.count()) == (count, events)
    assert 250 <= count <= 400
    assert set(Appeal.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert Appeal.objects.filter(is_repeat=True).count() >= 15
    assert Appeal.objects.exclude(risk_words="").filter(severity="red").count() >= 5
    assert Appeal.objects.filter(is_enterprise=True).count() >= 20
    assert Appeal.objects.filter(status=AppealStatus.NEW).count() >= 15
    phones = {a.citizen_phone for a in Appeal.objects.all()}
    assert all(p.startswith("+861380000") for p in phones)


def test_a_load_minutes_later_numbers_every_appeal_as_before():
    """A second load skips the appeals by their number (channel and DEMO id): the numbers must name
    the same appeals whatever the minute. Numbered after sorting by time they did not: an appeal
    drawn relative to now and one at a fixed hour of the same minute swapped places a minute later,
    and both were created again (a test of two loads failed so once)."""
    import datetime as dt
    import random

    from django.utils import timezone

    def by_number(now):
        return {p["external_id"]: (p["channel"], p["content"]) for p in demo._plan(random.Random(20261122), now)}

    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    first = by_number(start)
    for minutes in range(1, 180):
        assert by_number(start + dt.timedelta(minutes=minutes)) == first, minutes
