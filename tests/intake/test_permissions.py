"""The triage actions of an appeal are offered exactly to whom they are allowed: the appeal page
shows the triage form, the desk its bulk bar, and the API accepts the triage action for the same
users, all by ``intake.permissions.may_triage``."""

from __future__ import annotations

import pytest

from intake import permissions
from intake.models import Appeal

CAST = ("center", "handler", "leader", "supervisor", "administrator")


def _at(appeal: Appeal, unit) -> Appeal:
    """The appeal as if dispatched to ``unit``'s area, so that its people see it too."""
    appeal.unit = unit
    appeal.save()  # keeps the stored visibility scope in step
    return appeal


@pytest.mark.parametrize("name", CAST)
def test_the_triage_form_and_the_api_action_follow_one_rule(name, request, make_appeal, client, api, station):
    user = request.getfixturevalue(name)
    appeal = _at(make_appeal(), station)
    allowed = permissions.may_triage(user, appeal)
    client.force_login(user)
    page = client.get(f"/appeals/{appeal.pk}/")
    assert page.status_code == 200
    assert (f'action="/appeals/{appeal.pk}/triage/"' in page.content.decode()) == allowed
    answer = api.as_user(user).post(f"/api/v1/appeals/{appeal.pk}/triage/", {"severity": "red"}, format="json")
    assert (answer.status_code != 403) == allowed, answer.content
    assert (answer.status_code == 200) == allowed


def test_a_closed_appeal_offers_no_triage_to_anyone(make_appeal, center, client, station):
    from intake import services

    appeal = _at(make_appeal(), station)
    services.close_appeal(appeal, actor=center, reply="已答复。")
    client.force_login(center)
    assert not permissions.may_triage(center, appeal)
    assert f'action="/appeals/{appeal.pk}/triage/"' not in client.get(f"/appeals/{appeal.pk}/").content.decode()
