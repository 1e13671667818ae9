"""Unit filters of staff lists offer the top of the user's tree and the way down to a chosen unit
(units/unit_options.py), never a <select> of every unit of a province: at ~9,000 units that one
field cost the workspace, the callback desk and the service-record list half a second each."""

from __future__ import annotations

import re

import pytest

from units import unit_options
from units.models import Unit

pytestmark = pytest.mark.django_db

LISTS = ["/workorders/", "/workorders/?tab=all", "/surveys/callbacks/", "/surveys/records/"]


def _options(response) -> list[str]:
    assert response.status_code == 200
    html = response.content.decode()
    select = re.search(r'<select name="unit"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the list has a unit filter"
    return re.findall(r'<option value="(\d*)"', select.group(1))


def _selected(response) -> list[str]:
    select = re.search(r'<select name="unit"[^>]*>(.*?)</select>', response.content.decode(), re.S).group(1)
    return re.findall(r'<option value="(\d+)"[^>]*selected', select)


@pytest.fixture
def small_cap(monkeypatch):
    """A tree bigger than the cap: the demo city has 1 city, 10 departments and districts, 12 stations."""
    monkeypatch.setattr(unit_options, "UNIT_OPTIONS_CAP", 8)


@pytest.mark.parametrize("url", LISTS)
def test_it_lists_the_top_levels_that_fit_and_drills_down_to_the_chosen_unit(client, center, small_cap, url):
    city, district = Unit.objects.get(code="LJ000"), Unit.objects.get(code="LJ100")
    client.force_login(center)

    assert _options(client.get(url)) == ["", str(city.pk)]

    # Choosing a district lists the way down to it and its stations; nothing else of the tree.
    response = client.get(url, {"unit": district.pk})
    stations = [str(pk) for pk in Unit.objects.filter(parent=district).values_list("pk", flat=True)]
    assert stations
    listed = _options(response)
    assert listed[:3] == ["", str(city.pk), str(district.pk)] and sorted(listed[3:]) == sorted(stations)
    assert _selected(response) == [str(district.pk)]

    # A station is still accepted, and shown chosen, though the first page never offered it.
    station = Unit.objects.get(code="LJ101")
    response = client.get(url, {"unit": station.pk})
    assert str(station.pk) in _options(response)
    assert _selected(response) == [str(station.pk)]


def test_a_city_sized_tree_is_listed_whole(client, center):
    client.force_login(center)
    listed = _options(client.get("/workorders/"))
    assert len(listed) == 1 + Unit.objects.filter(is_active=True).count()


def test_a_station_user_is_offered_his_own_units(client, handler):
    client.force_login(handler)
    assert _options(client.get("/workorders/")) == ["", str(handler.unit_id)]


def test_the_options_stay_bounded_in_a_flat_tree(center, small_cap):
    """A first level wider than the cap (a province's cities) is cut, not listed whole."""
    for i in range(60):
        Unit.objects.create(code=f"FLAT{i:02d}", name=f"平级单位{i}", tier="city")
    options = unit_options.unit_options(Unit.objects.all())
    assert len(options) == 2 * unit_options.UNIT_OPTIONS_CAP + 32
