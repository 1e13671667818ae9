"""Two deliveries of the same item at the same moment still make one appeal (PostgreSQL)."""

import pytest

from intake import services
from intake.models import Appeal
from tests.helpers import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_keeps_one_appeal_when_the_same_item_arrives_twice_at_once(city):
    results, errors = race(
        lambda: services.create_appeal(
            channel="12345", external_id="RACE-1", content="同时推送两次的工单", citizen_phone="13800001001"
        ),
        times=4,
    )
    assert not errors
    assert Appeal.objects.filter(external_id="RACE-1").count() == 1
    assert sum(created for _appeal, created in results) == 1
    assert len({appeal.pk for appeal, _created in results}) == 1
