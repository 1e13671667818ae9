"""The fixed cast every test can use: the demo city's units and one user of each role.

units.demo builds the city bureau → departments / district bureaus → stations tree; the users are
``center`` (center staff), ``handler`` and ``leader`` (station 滨江派出所 and its head),
``handler2`` (another station, 北湖派出所), ``supervisor`` and ``administrator``; ``superuser`` is a
superuser whose role is a handler's.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from opinion_center.celery import app as celery_app
from units import demo as units_demo
from units.choices import Role
from units.models import Unit, User


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2's cost is for real passwords; the demo cast would spend seconds per test on it."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _hotspots_computed_on_each_read():
    """The dashboard keeps its hotspots in the cache for minutes; the test Redis outlives a test
    and a run, so tests read them computed (tests/analytics/test_hotspots.py turns the cache on)."""
    from django.conf import settings

    settings.ANALYTICS_HOTSPOT_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _seeded_rows(request):
    """The rows data migrations seed (working calendar, severity policies, step notices). A transactional test
    ends by flushing every table, so a later test would otherwise run without them."""
    if "django_db" not in {m.name for m in request.node.iter_markers()}:
        if "transactional_db" in request.fixturenames:
            request.getfixturevalue("transactional_db")
        elif "db" in request.fixturenames:
            request.getfixturevalue("db")
        else:
            return
    from workorders.models import CalendarDay
    from workorders.services import ensure_default_policies
    from workorders.workdays import seed_known_years

    ensure_default_policies()
    if not CalendarDay.objects.filter(date__year=2020).exists():
        seed_known_years(first=2020)
    _seed_step_notices()


def _seed_step_notices() -> None:
    """The step-notice switches and their templates, as migration sms 0005 seeds them."""
    from importlib import import_module

    from django.apps import apps

    from sms.models import StepNotice

    if not StepNotice.objects.exists():
        import_module("sms.migrations.0005_step_notices").seed(apps, None)


@pytest.fixture
def city(db) -> Unit:
    units_demo.load()
    return Unit.objects.get(code="LJ000")


def _user(username: str) -> User:
    return User.objects.select_related("unit").get(username=username)


@pytest.fixture
def center(city) -> User:
    return _user("center")


@pytest.fixture
def handler(city) -> User:
    return _user("handler")


@pytest.fixture
def leader(city) -> User:
    return _user("leader")


@pytest.fixture
def handler2(city) -> User:
    return _user("handler2")


@pytest.fixture
def supervisor(city) -> User:
    return _user("supervisor")


@pytest.fixture
def administrator(city) -> User:
    return _user("admin")


@pytest.fixture
def superuser(station) -> User:
    """A superuser whose role is a handler's: an administrator by ``has_role``."""
    return User.objects.create_user("root", role=Role.UNIT_HANDLER, unit=station, is_superuser=True)


@pytest.fixture
def station(handler) -> Unit:
    """The station of ``handler`` and ``leader``."""
    return handler.unit


@pytest.fixture
def other_station(handler2) -> Unit:
    return handler2.unit


@pytest.fixture
def district(station) -> Unit:
    return station.parent


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` authenticates it."""

    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def celery_eager():
    """Run tasks inline (still after commit) for tests that follow a flow end to end."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
