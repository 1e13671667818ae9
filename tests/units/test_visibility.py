"""visible_to(user): one rule for every role, for units and for the API."""

import pytest

from units.models import Unit


def test_it_shows_center_staff_supervisors_and_admins_every_unit(center, supervisor, administrator):
    total = Unit.objects.count()
    for user in (center, supervisor, administrator):
        assert Unit.objects.visible_to(user).count() == total


def test_it_shows_a_handler_his_station_only(handler, station):
    assert list(Unit.objects.visible_to(handler)) == [station]


def test_it_shows_a_district_leader_his_district_and_its_stations(leader, district):
    leader.unit = district
    leader.save()
    visible = set(Unit.objects.visible_to(leader))
    assert visible == {district, *district.children.all()}
    assert len(visible) == 4


def test_it_shows_nothing_to_a_unit_user_without_a_unit(handler):
    handler.unit = None
    handler.save()
    assert Unit.objects.visible_to(handler).count() == 0


def test_it_shows_nothing_to_anonymous(city):
    from django.contrib.auth.models import AnonymousUser

    assert Unit.objects.visible_to(AnonymousUser()).count() == 0


def test_it_keeps_paths_when_a_unit_moves(city, station, other_station):
    # Move station under the other station's district: the subtree's paths follow.
    new_parent = Unit.objects.get(code="LJ200")
    station.parent = new_parent
    station.save()
    station.refresh_from_db()
    assert station.path.startswith(new_parent.path)
    assert station.is_under(new_parent)


@pytest.mark.parametrize(
    "username, expected_count",
    [("center", 23), ("supervisor", 23), ("admin", 23), ("handler", 1), ("leader", 1), ("handler2", 1)],
)
def test_it_applies_the_rule_in_the_units_api(api, city, username, expected_count):
    from units.models import User

    client = api.as_user(User.objects.get(username=username))
    response = client.get("/api/v1/units/", {"page_size": 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected_count


def test_it_answers_404_for_a_unit_the_user_may_not_see(api, handler, other_station):
    response = api.as_user(handler).get(f"/api/v1/units/{other_station.pk}/")
    assert response.status_code == 404


def test_it_refuses_the_api_without_authentication(api, city):
    assert api.get("/api/v1/units/").status_code in (401, 403)
