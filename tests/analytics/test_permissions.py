"""The analytics pages offer computing, publishing and generating exactly to whom
``analytics.permissions`` allows: for each role and a superuser, a button is
on the page iff posting it does the work, and the services refuse the others."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from analytics import permissions, services
from analytics.models import Bulletin, Ranking

pytestmark = pytest.mark.django_db

CAST = ("center", "handler", "leader", "supervisor", "administrator", "superuser")
MONTH = dt.date(2025, 1, 1)


def _html(client, path: str) -> str:
    page = client.get(path)
    return page.content.decode() if page.status_code == 200 else ""


def test_compute_and_publish_buttons_follow_the_rule(request, client, city):
    for i, name in enumerate(CAST):
        user = request.getfixturevalue(name)
        ranking = services.compute_ranking(month=dt.date(2024, 1 + i, 1), tier="station")
        client.force_login(user)
        html = _html(client, f"/analytics/rankings/{ranking.pk}/")
        compute_shown = 'action="/analytics/rankings/compute/"' in html
        publish_shown = f'action="/analytics/rankings/{ranking.pk}/publish/"' in html
        assert compute_shown == permissions.may_compute(user), name
        assert publish_shown == permissions.may_publish(user), name

        fresh = dt.date(2023, 1 + i, 1)
        client.post("/analytics/rankings/compute/", {"month": f"{fresh:%Y-%m}", "tier": "station"})
        assert Ranking.objects.filter(month=fresh, tier="station").exists() == compute_shown, name
        client.post(f"/analytics/rankings/{ranking.pk}/publish/")
        ranking.refresh_from_db()
        assert (ranking.status == "published") == publish_shown, name


def test_the_generate_form_follows_the_rule(request, client, city):
    for i, name in enumerate(CAST):
        user = request.getfixturevalue(name)
        client.force_login(user)
        shown = 'action="/analytics/bulletins/generate/"' in _html(client, "/analytics/bulletins/")
        assert shown == permissions.may_compute(user), name
        on = MONTH + dt.timedelta(days=i)
        client.post("/analytics/bulletins/generate/", {"kind": "daily", "on": f"{on}"})
        assert Bulletin.objects.filter(kind="daily", period_start=on).exists() == shown, name


def test_the_services_refuse_whom_the_rule_refuses(handler, leader, center):
    with pytest.raises(PermissionDenied):
        services.compute_ranking(month=MONTH, tier="station", actor=leader)
    ranking = services.compute_ranking(month=MONTH, tier="station", actor=center)
    with pytest.raises(PermissionDenied):
        services.publish_ranking(ranking, actor=center)
    assert permissions.may_read(leader) and not permissions.may_read(handler)
