"""The desk's filters compile to index-friendly SQL: date ranges on received_at itself, the
category without a join or DISTINCT, two-character words through the bigram index."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import QueryDict

from intake.filters import AppealFilter
from intake.models import Appeal

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _filtered(**params) -> tuple[set[int], str]:
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    qs = AppealFilter(query, queryset=Appeal.objects.all()).qs
    return set(qs.values_list("pk", flat=True)), str(qs.query)


def test_date_filters_are_ranges_on_received_at_in_shanghai_days(make_appeal):
    late = make_appeal(received_at=datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI))
    early = make_appeal(received_at=datetime(2026, 3, 2, 0, 10, tzinfo=SHANGHAI))
    found, sql = _filtered(received_before="2026-03-01")
    assert found == {late.pk}
    assert "AT TIME ZONE" not in sql.upper() and "::DATE" not in sql.upper()
    found, sql = _filtered(received_after="2026-03-02")
    assert found == {early.pk}
    assert "AT TIME ZONE" not in sql.upper()
    assert _filtered(received_after="2026-03-01", received_before="2026-03-02")[0] == {late.pk, early.pk}


def test_category_and_choice_filters_add_no_join_and_no_distinct(make_appeal, categories):
    noise = make_appeal(content="酒吧噪音扰民", category=categories["ORDER-NOISE"])
    parent = make_appeal(content="治安问题", category=categories["ORDER"])
    make_appeal(content="电信诈骗", category=categories["FRAUD"])
    found, sql = _filtered(category=str(categories["ORDER"].pk), channel=["hotline", "12345"], status=["new"])
    assert found == {noise.pk, parent.pk}
    assert "DISTINCT" not in sql.upper() and "JOIN" not in sql.upper()


def test_two_character_words_are_found_through_the_bigram_index(make_appeal):
    in_content = make_appeal(content="楼下烧烤噪音到凌晨")
    in_title = make_appeal(content="请处理", title="广场噪音")
    in_address = make_appeal(content="请处理", address="噪音巷3号")
    make_appeal(content="电动车被盗")
    make_appeal(content="噪声扰民")  # shares one character, not the word
    found, sql = _filtered(q="噪音")
    assert found == {in_content.pk, in_title.pk, in_address.pk}
    assert _filtered(q="烧烤噪音")[0] == {in_content.pk}
    assert _filtered(q="Ab")[0] == set()
    if connection.vendor == "postgresql":
        assert "appeal_search_terms" in sql
