"""The API refuses what its schema calls invalid instead of turning it into something valid:
a number where text is due, a boolean filter that is no boolean, a phone outside the pattern
the schema gives (and accepts everything that pattern allows)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.phones import MAINLAND_PHONE_PATTERN, normalize_phone
from intake.services import create_appeal

pytestmark = pytest.mark.django_db


def test_reveal_phone_refuses_a_number_as_its_reason(api, center):
    from intake.models import PhoneReveal

    appeal, _ = create_appeal(channel="hotline", content="咨询户口迁移", citizen_phone="13800001234")
    answer = api.as_user(center).post(f"/api/v1/appeals/{appeal.pk}/reveal-phone/", {"reason": 42}, format="json")
    assert answer.status_code == 400, answer.content
    assert "reason" in answer.json()
    assert not PhoneReveal.objects.exists()


def test_text_fields_of_request_bodies_refuse_numbers_and_lists(api, center):
    answer = api.as_user(center).post("/api/v1/appeals/", {"channel": "hotline", "content": 12345}, format="json")
    assert answer.status_code == 400 and "content" in answer.json()
    answer = api.as_user(center).post("/api/v1/appeals/", {"channel": "hotline", "content": ["诉求"]}, format="json")
    assert answer.status_code == 400 and "content" in answer.json()


@pytest.mark.parametrize("value", ["maybe", "yes", "2", "真", ""])
def test_a_boolean_filter_refuses_what_is_not_true_or_false(api, center, value):
    answer = api.as_user(center).get(f"/api/v1/work-orders/?is_overdue={value}")
    assert answer.status_code == 400, answer.content
    assert "is_overdue" in answer.json()


@pytest.mark.parametrize("value", ["true", "false", "1", "0", "True"])
def test_a_boolean_filter_takes_true_false_one_zero(api, center, value):
    assert api.as_user(center).get(f"/api/v1/work-orders/?is_overdue={value}").status_code == 200


@pytest.mark.parametrize("query", ["unit=", "received_after=", "status="])
def test_a_filter_given_empty_is_refused_unless_it_is_text(api, center, query):
    answer = api.as_user(center).get(f"/api/v1/appeals/?{query}")
    assert answer.status_code == 400, answer.content
    assert query.rstrip("=") in answer.json()


def test_the_schema_gives_the_phone_pattern_the_server_checks(api, center):
    schema = api.as_user(center).get("/api/schema/?format=json").json()
    for name in ("AppealCreateRequest", "AppealPushRequest"):
        phone = schema["components"]["schemas"][name]["properties"]["citizen_phone"]
        # The pattern, or blank (no number).
        assert phone["oneOf"] == [
            {"type": "string", "default": "", "maxLength": 40, "pattern": MAINLAND_PHONE_PATTERN},
            {"type": "string", "maxLength": 0},
        ]


@pytest.mark.parametrize(
    "phone", ["13800001234", "138 0000 1234", "+86 138-0000-1234", "008613800001234", "024-23456789", ""]
)
def test_a_pushed_phone_the_pattern_allows_is_taken(api, center, phone):
    assert phone == "" or re.search(MAINLAND_PHONE_PATTERN, phone)
    body = {"channel": "hotline", "content": "咨询户口迁移", "citizen_phone": phone}
    assert api.as_user(center).post("/api/v1/appeals/", body, format="json").status_code == 201


@pytest.mark.parametrize("phone", ["电话", "1380000123", " 13800001234", "+14155552671", "   ", "\n", "138000012345"])
def test_a_pushed_phone_outside_the_pattern_is_refused(api, center, phone):
    assert not re.search(MAINLAND_PHONE_PATTERN, phone)
    body = {"channel": "hotline", "content": "咨询户口迁移", "citizen_phone": phone}
    answer = api.as_user(center).post("/api/v1/appeals/", body, format="json")
    assert answer.status_code == 400 and "citizen_phone" in answer.json()


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(MAINLAND_PHONE_PATTERN))
def test_every_phone_the_pattern_allows_is_a_valid_number(phone):
    assert normalize_phone(phone).startswith("+86")
