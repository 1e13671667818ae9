"""Appeals and orders for the work-order tests (appeals are built directly: intake owns their services)."""

from __future__ import annotations

import itertools

import pytest

from intake.models import Appeal, Category
from intake.phones import phone_hash
from workorders import services

_seq = itertools.count(1)


@pytest.fixture
def make_appeal(city):
    def make(**kwargs) -> Appeal:
        phone = kwargs.pop("phone", "+8613800001234")
        category = kwargs.pop("category", None)
        if isinstance(category, str):
            category, _ = Category.objects.get_or_create(code=category, defaults={"name": category})
        defaults = {
            "channel": "hotline",
            "content": f"小区门口夜间烧烤噪音扰民，多次反映未解决（{next(_seq)}）",
            "address": "临江市江北区滨江路18号",
            "citizen_name": "张建国",
            "citizen_phone": phone,
            "citizen_phone_hash": phone_hash(phone) if phone else "",
            "severity": "yellow",
            "status": "pending_dispatch",
            "category": category,
        }
        defaults.update(kwargs)
        return Appeal.objects.create(**defaults)

    return make


@pytest.fixture
def appeal(make_appeal) -> Appeal:
    return make_appeal()


@pytest.fixture
def order(appeal, station, center):
    return services.dispatch_appeal(appeal, unit=station, actor=center)
