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
