"""``units.copy_rows.insert_rows``: rows written by COPY read back as the ORM wrote them."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.models import Ranking, RankingEntry
from units.copy_rows import insert_rows
from units.models import Unit

pytestmark = pytest.mark.django_db


def test_it_writes_json_text_and_plain_values_as_the_orm_would(station, other_station):
    ranking = Ranking.objects.create(month=dt.date(2026, 11, 1), tier="station")
    awkward = {
        "text": '引号"、反斜杠\\、制表\t和换行\n',
        "nested": {"rate": 0.1, "none": None, "list": [1, 2.5, "三"]},
        "big": 2**40,
        "flag": True,
    }
    n = insert_rows(
        RankingEntry,
        [
            {"ranking_id": ranking.pk, "unit_id": station.pk, "figures": awkward, "sample": 3, "score": 91.25},
            {"ranking_id": ranking.pk, "unit_id": other_station.pk, "rank": 2},  # the rest: defaults
        ],
    )
    assert n == 2
    first = RankingEntry.objects.get(ranking=ranking, unit=station)
    assert first.figures == awkward
    assert (first.sample, first.score, first.rank, first.flag) == (3, 91.25, None, "")
    second = RankingEntry.objects.get(ranking=ranking, unit=other_station)
    assert (second.figures, second.sample, second.rank, second.eligible) == ({}, 0, 2, True)
    # Keys that are not strings are written as JSON writes them.
    insert_rows(
        RankingEntry,
        [
            {
                "ranking_id": ranking.pk,
                "unit_id": Unit.objects.exclude(pk__in=[station.pk, other_station.pk]).first().pk,
                "figures": {1: "一"},
            }
        ],
    )
    assert RankingEntry.objects.filter(ranking=ranking, figures={"1": "一"}).count() == 1
