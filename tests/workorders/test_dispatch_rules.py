"""The proposed unit: jurisdiction rules on the address first, then category rules (parents cover children)."""

from __future__ import annotations

import pytest

from intake.models import Category
from units.models import Unit
from workorders.models import CategoryRule, JurisdictionRule
from workorders.services import propose_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic(city):
    parent = Category.objects.create(code="T", name="交通管理")
    child = Category.objects.create(code="T-PARK", name="违章停车", parent=parent)
    CategoryRule.objects.create(category=parent, unit=Unit.objects.get(code="LJ020"))
    return child


def test_it_proposes_the_station_of_the_address(make_appeal, station, other_station, traffic):
    JurisdictionRule.objects.create(kind="street", pattern="滨江路", unit=station)
    JurisdictionRule.objects.create(kind="community", pattern="北湖社区", unit=other_station)
    assert propose_unit(make_appeal(address="临江市滨江路8号", category=traffic)) == station
    assert propose_unit(make_appeal(address="北湖社区3栋", category=traffic)) == other_station


def test_it_prefers_the_higher_priority_then_the_longer_place(make_appeal, station, other_station):
    JurisdictionRule.objects.create(pattern="江北", unit=station, priority=100)
    JurisdictionRule.objects.create(pattern="江北大道", unit=other_station, priority=100)
    assert propose_unit(make_appeal(address="江北大道100号")) == other_station
    JurisdictionRule.objects.create(pattern="江北大道1", unit=station, priority=10)
    assert propose_unit(make_appeal(address="江北大道100号")) == station


def test_it_falls_back_to_the_category_department(make_appeal, traffic):
    assert propose_unit(make_appeal(address="无匹配地址", category=traffic)).code == "LJ020"


def test_it_proposes_nothing_without_a_rule(make_appeal):
    assert propose_unit(make_appeal(address="某地")) is None


def test_it_ignores_inactive_rules(make_appeal, station):
    JurisdictionRule.objects.create(pattern="滨江路", unit=station, is_active=False)
    assert propose_unit(make_appeal(address="滨江路1号")) is None
