"""Two requests making the same move at the same moment: the row lock makes it one effect."""

from __future__ import annotations

import pytest

from tests.helpers import race
from workorders import services
from workorders.choices import Action

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_signs_once_when_two_requests_race(order, handler):
    _results, errors = race(lambda: services.sign_for(order.__class__.objects.get(pk=order.pk), actor=handler))
    assert errors == []
    assert order.events.filter(action=Action.SIGN).count() == 1


def test_it_urges_once_when_two_workers_race(order, handler):
    import time_machine

    from units.models import Notification

    with time_machine.travel(order.due_at, tick=False):
        counts, errors = race(lambda: services.urge_due_orders(now=order.due_at))
    assert errors == []
    assert sorted(counts) == [0, 1]
    assert Notification.objects.filter(user=handler, dedupe_key__startswith="wo-urge:").count() == 1
