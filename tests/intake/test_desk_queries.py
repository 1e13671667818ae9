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


def test_the_unit_filter_offers_bureaus_and_up_when_a_user_sees_many_units(client, center, monkeypatch):
    """A province has 8,000 stations: the desk's unit filter then lists the units down to the
    district bureaus (a bureau's filter includes its stations), plus the station chosen."""
    import re

    from django.urls import reverse

    from intake import filters
    from units.models import Unit

    station = Unit.objects.filter(tier="station").first()
    client.force_login(center)

    def offered(**params) -> set[str]:
        page = client.get(reverse("intake:desk"), params).content.decode()
        select = re.search(r'<select[^>]*name="unit".*?</select>', page, re.S).group(0)
        return set(re.findall(r'<option value="(\d+)"', select))

    assert str(station.pk) in offered()  # a city's few units: every one
    monkeypatch.setattr(filters, "UNIT_CHOICES_CAP", 3)
    few = offered()
    stations = {str(pk) for pk in Unit.objects.filter(tier="station").values_list("pk", flat=True)}
    assert few and not few & stations
    assert offered(unit=station.pk) & stations == {str(station.pk)}


def test_the_quick_unit_select_writes_what_djangos_select_writes():
    from django import forms
    from django.test.html import parse_html

    from intake.filters import QuickSelect

    choices = [("", "全部"), (1, "江北分局"), (2, "<b>滨江</b>派出所")]
    for value in (None, "2"):
        quick = QuickSelect(choices=choices).render("unit", value, attrs={"id": "id_unit"})
        stock = forms.Select(choices=choices).render("unit", value, attrs={"id": "id_unit"})
        assert parse_html(quick) == parse_html(stock)
