"""The demo city shows what a new user wants to try: police rooms below a station, so that a
station leader's sub-dispatch (转派) can be tried with a room's own login."""

import pytest

from intake import demo as intake_demo
from units.models import Unit, User
from workorders import demo as workorders_demo
from workorders.choices import Action
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_it_puts_two_police_rooms_with_an_officer_each_under_the_station(city, leader):
    intake_demo.load()
    workorders_demo.load()
    workorders_demo.load()  # twice: nothing new

    rooms = Unit.objects.filter(parent=leader.unit, name__endswith="警务室")
    assert rooms.count() == 2
    for room in rooms:
        officer = User.objects.get(unit=room)
        assert officer.check_password("demo12345") and officer.is_active
        assert room in Unit.objects.visible_to(leader)

    handed_down = WorkOrder.objects.filter(unit__in=rooms)
    assert handed_down.count() == 1
    order = handed_down.get()
    assert order.events.filter(action=Action.SUB_DISPATCH, actor=leader).exists()
    room_officer = User.objects.get(username="room1")
    assert WorkOrder.objects.visible_to(room_officer).filter(pk=order.pk).exists()
    assert not WorkOrder.objects.visible_to(User.objects.get(username="room2")).filter(pk=order.pk).exists()
