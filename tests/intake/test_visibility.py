"""Who sees which appeal: the lead unit's subtree, and units holding a work order on it."""

import pytest

from intake import services
from intake.models import Appeal

pytestmark = pytest.mark.django_db


def test_it_shows_an_appeal_to_the_lead_unit_and_its_leaders_only(
    make_appeal, center, handler, leader, handler2, supervisor, administrator, station
):
    appeal = make_appeal()
    assert not Appeal.objects.visible_to(handler).exists()
    services.mark_dispatched(appeal, unit=station, actor=center)
    for user in (handler, leader, center, supervisor, administrator):
        assert Appeal.objects.visible_to(user).filter(pk=appeal.pk).exists(), user
    assert not Appeal.objects.visible_to(handler2).exists()


def test_it_shows_an_appeal_to_an_assisting_unit_of_its_work_order(
    make_appeal, center, handler2, station, other_station
):
    workorders = pytest.importorskip("workorders.services")
    appeal = make_appeal()
    workorders.dispatch_appeal(appeal, unit=station, actor=center, assisting_units=[other_station], note="")
    assert list(Appeal.objects.visible_to(handler2)) == [appeal]


def test_it_shows_nothing_to_a_user_without_a_unit(make_appeal, handler):
    make_appeal()
    handler.unit = None
    assert not Appeal.objects.visible_to(handler).exists()
