"""Helpers of the intake tests: the category tree, risk words and an appeal factory."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache

from intake import demo as intake_demo
from intake import services
from intake.models import Category, RiskWord

_phones = itertools.count(1000)


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate-limit counters and used captchas live in the cache (Redis db of this app).
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def categories(db) -> dict[str, Category]:
    intake_demo.load_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def risk_words(db) -> list[str]:
    words = ["不想活了", "报复", "同归于尽"]
    for word in words:
        RiskWord.objects.get_or_create(word=word)
    return words


def next_phone() -> str:
    return f"1380000{next(_phones) % 10000:04d}"


@pytest.fixture
def make_appeal(city):
    """Create an appeal through the service (defaults: hotline, a fresh phone)."""

    def make(**kwargs):
        kwargs.setdefault("channel", "hotline")
        kwargs.setdefault("content", "小区楼下夜市烧烤噪音很大,每天闹到凌晨两点,请派出所管一管")
        kwargs.setdefault("citizen_phone", next_phone())
        appeal, _created = services.create_appeal(**kwargs)
        return appeal

    return make
