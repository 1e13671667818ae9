"""A small generated history (three months) and the demo city's categories and rules."""

from __future__ import annotations

import pytest

from intake.demo import load_categories
from intake.models import Category
from routing import services
from routing.history import generate
from units.models import Unit
from workorders.models import CategoryRule, JurisdictionRule


@pytest.fixture(autouse=True)
def _fresh_model_cache(settings):
    settings.ROUTING_FEATURES = 2**14  # small and fast; the code path is the production one
    services.forget_loaded_model()
    yield
    services.forget_loaded_model()


@pytest.fixture
def categories(city):
    load_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def rules(categories):
    JurisdictionRule.objects.create(pattern="滨江路", unit=Unit.objects.get(code="LJ101"))
    CategoryRule.objects.create(category=categories["TRAFFIC"], unit=Unit.objects.get(code="LJ020"))


@pytest.fixture
def history(categories, rules) -> int:
    return generate(months=3, per_day=8, seed=3)


@pytest.fixture
def trained(history):
    run = services.train_model()
    assert run.status == "active", run.note
    return run
