"""Two requests making the same move at the same moment: the row lock makes it one effect."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from workorders import services
from workorders.choices import Action

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_signs_once_when_two_requests_race(order, handler):
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sign():
        try:
            barrier.wait()
            services.sign_for(order.__class__.objects.get(pk=order.pk), actor=handler)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert order.events.filter(action=Action.SIGN).count() == 1


def test_it_urges_once_when_two_workers_race(order, handler):
    import time_machine

    from units.models import Notification

    barrier = threading.Barrier(2)
    counts: list[int] = []

    def urge():
        try:
            barrier.wait()
            counts.append(services.urge_due_orders(now=order.due_at))
        finally:
            connection.close()

    with time_machine.travel(order.due_at, tick=False):
        threads = [threading.Thread(target=urge) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(counts) == [0, 1]
    assert Notification.objects.filter(user=handler, dedupe_key__startswith="wo-urge:").count() == 1
