"""An alert's moves are offered exactly to whom they are allowed: for each role, a leader of
another unit and a superuser without the administrator role, in each state of the alert, the
alert page shows a move's button if and only if posting that move (from the page or the API)
makes it, and ``alerts.permissions`` decides both."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts import permissions
from alerts.choices import AlertState, Detector
from alerts.models import Alert, AlertEvent
from units.choices import Role
from units.models import User

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 20, 12, 0, tzinfo=dt.UTC)
CAST = ("center", "handler", "leader", "handler2", "leader2", "supervisor", "administrator", "superuser")
# move -> (the page's form action, the API action, the API body, the timeline row it writes)
MOVES = {
    "seen": ("seen", "seen", {}, "seen"),
    "handle": ("handle", "handle", {"note": "已约谈经营者，加强夜间巡查。"}, "handled"),
    "list": ("list", "list-for-supervision", {}, "listed"),
}

RULES = {"seen": permissions.may_mark_seen, "handle": permissions.may_handle, "list": permissions.may_list}


@pytest.fixture
def leader2(other_station) -> User:
    """The leader of another station: a reader, but not of this station's alerts."""
    return User.objects.create_user("leader2", role=Role.UNIT_LEADER, unit=other_station)


def _alert(station, state: str, tag: str) -> Alert:
    return Alert.objects.create(
        detector=Detector.CALLER, key=f"perm-{tag}", title="滨江派出所的预警", unit=station, raised_at=NOW, state=state
    )


def _buttons(client, user, alert) -> set[str]:
    client.force_login(user)
    page = client.get(f"/alerts/{alert.pk}/")
    if page.status_code in (403, 404):
        return set()
    assert page.status_code == 200
    html = page.content.decode()
    return {move for move in MOVES if f'action="/alerts/{alert.pk}/{move}/"' in html}


@pytest.mark.parametrize("state", [AlertState.NEW, AlertState.SEEN, AlertState.HANDLED])
def test_each_move_button_is_shown_exactly_when_posting_it_succeeds(state, request, client, api, station):
    for name in CAST:
        user = request.getfixturevalue(name)
        for move, (path, api_path, body, event) in MOVES.items():
            alert = _alert(station, state, f"{name}-{move}-{state}-page")
            shown = move in _buttons(client, user, alert)
            client.post(f"/alerts/{alert.pk}/{path}/", body)
            assert AlertEvent.objects.filter(alert=alert, action=event).exists() == shown, (name, state, move)
            again = _alert(station, state, f"{name}-{move}-{state}-api")
            answer = api.as_user(user).post(f"/api/v1/alerts/{again.pk}/{api_path}/", body, format="json")
            made = AlertEvent.objects.filter(alert=again, action=event).exists()
            assert made == shown, (name, state, move, answer.status_code)
            if shown:
                assert answer.status_code == 200, (name, state, move)
            elif not RULES[move](user, again):  # refused by the rule, not a state's no-op or 409
                assert answer.status_code in (403, 404), (name, state, move, answer.status_code)


def test_the_rule_names_the_readers_and_who_may_make_each_move(request, station):
    alert = _alert(station, AlertState.NEW, "rule")
    expected = {
        # name: (may read, may mark seen, may handle, may list)
        "center": (True, True, True, False),
        "handler": (False, False, False, False),
        "leader": (True, True, True, False),
        "handler2": (False, False, False, False),
        "leader2": (True, False, False, False),  # reads alerts, not this station's
        "supervisor": (True, True, False, True),
        "administrator": (True, True, True, True),
        "superuser": (True, True, True, True),
    }
    for name, answer in expected.items():
        user = request.getfixturevalue(name)
        got = (
            permissions.may_read(user),
            permissions.may_mark_seen(user, alert),
            permissions.may_handle(user, alert),
            permissions.may_list(user, alert),
        )
        assert got == answer, name


def test_a_listed_alert_offers_no_second_listing(client, administrator, station):
    alert = _alert(station, AlertState.SEEN, "listed")
    alert.is_listed = True
    alert.save(update_fields=["is_listed"])
    assert "list" not in _buttons(client, administrator, alert)
    assert not permissions.offered_moves(administrator, alert)["can_list"]
