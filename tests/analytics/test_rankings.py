"""Red/black lists: tiers of comparable units, minimum sample, scores, ranks, and the freeze."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from analytics import services
from analytics.metrics import UnitMetrics
from analytics.models import Ranking, RankingEvent
from units.errors import Refused
from units.models import Unit

from .conftest import at

pytestmark = pytest.mark.django_db

NOVEMBER_15 = at("2026-11-15", "09:00")
WEIGHTS = {"satisfaction": 1.0, "completion": 1.0}


def _m(uid, *, satisfied=0, dissatisfied=0, due=0, due_closed=0):
    return UnitMetrics(
        uid, Counter(satisfied=satisfied, dissatisfied=dissatisfied, due=due, due_closed=due_closed), basic_weight=1.0
    )


def test_it_scores_the_weighted_mean_of_the_available_rates():
    m = _m(1, satisfied=3, dissatisfied=1, due=4, due_closed=2)  # 75 % and 50 %
    assert services.score_of(m, {"satisfaction": 3, "completion": 1}) == pytest.approx(100 * (3 * 0.75 + 0.5) / 4)
    # No order due: the completion weight is left out, not counted as zero.
    assert services.score_of(_m(2, satisfied=1, dissatisfied=1), WEIGHTS) == 50.0
    assert services.score_of(_m(3), WEIGHTS) is None


def test_it_scores_lower_is_better_rates_inverted():
    m = UnitMetrics(1, Counter(appeals=4, repeat=1), basic_weight=1.0)
    assert services.score_of(m, {"repeat": 1}) == 75.0


def test_it_ranks_with_shared_places_and_leaves_small_samples_unranked():
    metrics = {
        1: _m(1, satisfied=10),  # 100
        2: _m(2, satisfied=9, dissatisfied=1),  # 90
        3: _m(3, satisfied=9, dissatisfied=1),  # 90
        4: _m(4, satisfied=5, dissatisfied=5),  # 50
        5: _m(5, satisfied=1),  # 100 but sample 1
        6: _m(6, satisfied=2, dissatisfied=8),  # 20
    }
    codes = {i: f"U{i}" for i in metrics}
    placed = services.rank_units(metrics, codes, weights=WEIGHTS, min_sample=5, list_size=2)
    assert [placed[i]["rank"] for i in (1, 2, 3, 4, 6)] == [1, 2, 2, 4, 5]
    assert placed[5] == {"score": 100.0, "eligible": False, "rank": None, "flag": ""}
    assert [i for i in metrics if placed[i]["flag"] == "red"] == [1, 2]
    assert [i for i in metrics if placed[i]["flag"] == "black"] == [4, 6]


def test_it_never_puts_a_unit_on_both_lists():
    metrics = {1: _m(1, satisfied=10), 2: _m(2, dissatisfied=10), 3: _m(3, satisfied=5, dissatisfied=5)}
    placed = services.rank_units(metrics, {1: "A", 2: "B", 3: "C"}, weights=WEIGHTS, min_sample=1, list_size=3)
    assert [placed[i]["flag"] for i in (1, 2, 3)] == ["red", "black", ""]


def _ratings(make, unit, satisfied, dissatisfied, day="2026-10-10"):
    for _ in range(satisfied):
        make.rating(unit=unit, verdict="satisfied", rated_at=at(day))
    for _ in range(dissatisfied):
        make.rating(unit=unit, verdict="dissatisfied", rated_at=at(day))


def test_it_ranks_stations_with_stations_and_bureaus_with_bureaus(make, station, other_station, supervisor, settings):
    settings.ANALYTICS_RANKING_MIN_SAMPLE = 4
    _ratings(make, station, 4, 0)
    _ratings(make, other_station, 2, 2)
    with time_machine.travel(NOVEMBER_15, tick=False):
        stations = services.compute_ranking(month=dt.date(2026, 10, 1), tier="station", actor=supervisor)
        districts = services.compute_ranking(month=dt.date(2026, 10, 1), tier="district", actor=supervisor)
    assert set(stations.entries.values_list("unit__tier", flat=True)) == {"station"}
    assert set(districts.entries.values_list("unit__tier", flat=True)) == {"district"}
    by_code = {e.unit.code: e for e in stations.entries.select_related("unit")}
    assert (by_code["LJ101"].rank, by_code["LJ101"].flag) == (1, "red")
    assert (by_code["LJ102"].rank, by_code["LJ102"].flag) == (2, "black")
    assert by_code["LJ201"].eligible is False and by_code["LJ201"].rank is None
    assert by_code["LJ101"].figures["satisfaction"] == {"num": 4, "den": 4, "rate": 1.0}
    north = {e.unit.code: e for e in districts.entries.select_related("unit")}["LJ100"]
    assert north.sample == 8 and north.figures["satisfaction"]["rate"] == pytest.approx(6 / 8)
    assert stations.min_sample == 4 and stations.weights == settings.ANALYTICS_RANKING_WEIGHTS


def test_it_recomputes_a_draft_in_place(make, station, supervisor):
    month = dt.date(2026, 10, 1)
    with time_machine.travel(NOVEMBER_15, tick=False):
        first = services.compute_ranking(month=month, tier="station", actor=supervisor)
        entries = first.entries.count()
        _ratings(make, station, 1, 0)
        again = services.compute_ranking(month=dt.date(2026, 10, 20), tier="station", actor=supervisor)
    assert again.pk == first.pk and Ranking.objects.count() == 1
    assert again.entries.count() == entries == Unit.objects.filter(tier="station").count()
    assert again.entries.get(unit=station).figures["satisfaction"]["den"] == 1
    assert list(RankingEvent.objects.values_list("action", flat=True)) == ["compute", "recompute"]


def test_it_freezes_a_published_month(make, station, supervisor, settings):
    settings.ANALYTICS_RANKING_MIN_SAMPLE = 1
    month = dt.date(2026, 10, 1)
    _ratings(make, station, 3, 1)
    with time_machine.travel(NOVEMBER_15, tick=False):
        ranking = services.compute_ranking(month=month, tier="station", actor=supervisor)
        services.publish_ranking(ranking, actor=supervisor)
        services.publish_ranking(ranking, actor=supervisor)  # twice: one effect
        frozen = list(ranking.entries.order_by("unit_id").values("unit_id", "score", "rank", "flag", "figures"))
        # Late data for October arrives (a rating dated in October, a late import).
        _ratings(make, station, 0, 5)
        with pytest.raises(Refused) as refused:
            services.compute_ranking(month=month, tier="station", actor=supervisor)
        assert refused.value.code == services.FROZEN
        services.generate_due_bulletins()  # the periodic job does not touch it either
    ranking.refresh_from_db()
    assert ranking.status == "published" and ranking.published_by == supervisor
    assert list(ranking.entries.order_by("unit_id").values("unit_id", "score", "rank", "flag", "figures")) == frozen
    assert RankingEvent.objects.filter(ranking=ranking, action="publish").count() == 1


def test_it_refuses_publishing_an_unfinished_month(supervisor):
    with time_machine.travel(NOVEMBER_15, tick=False):
        ranking = services.compute_ranking(month=dt.date(2026, 11, 1), tier="station", actor=supervisor)
        with pytest.raises(Refused) as refused:
            services.publish_ranking(ranking, actor=supervisor)
        assert refused.value.code == services.MONTH_NOT_OVER
    assert Ranking.objects.get().status == "draft"


def test_it_lets_only_supervisors_and_admins_publish(center, handler, leader, administrator):
    with time_machine.travel(NOVEMBER_15, tick=False):
        ranking = services.compute_ranking(month=dt.date(2026, 10, 1), tier="station", actor=center)
        for user in (center, handler, leader):
            with pytest.raises(PermissionDenied):
                services.publish_ranking(ranking, actor=user)
        with pytest.raises(PermissionDenied):
            services.compute_ranking(month=dt.date(2026, 10, 1), tier="station", actor=handler)
        services.publish_ranking(ranking, actor=administrator)
    assert Ranking.objects.get().status == "published"


def test_it_tells_the_leaders_of_listed_units_once(make, station, other_station, supervisor, leader, settings):
    from units.models import Notification

    settings.ANALYTICS_RANKING_MIN_SAMPLE = 2
    _ratings(make, station, 1, 3)  # the leader's station: worst
    _ratings(make, other_station, 4, 0)
    with time_machine.travel(NOVEMBER_15, tick=False):
        ranking = services.compute_ranking(month=dt.date(2026, 10, 1), tier="station", actor=supervisor)
        services.publish_ranking(ranking, actor=supervisor)
        services.publish_ranking(ranking, actor=supervisor)
    (note,) = Notification.objects.filter(user=leader)
    assert "滨江派出所列入黑榜" in note.text and note.level == "warning"
    assert note.url == f"/analytics/rankings/{ranking.pk}/"


def test_it_uses_the_administrators_policy_over_the_settings(make, station, other_station, supervisor):
    from analytics.models import RankingPolicy

    RankingPolicy.objects.create(weights={"satisfaction": 1}, min_sample=1, list_size=1, is_active=False)
    RankingPolicy.objects.create(weights={"completion": 1, "satisfaction": 0}, min_sample=2, list_size=1)
    _ratings(make, station, 2, 0)
    make.order(unit=station, due_at=at("2026-10-05"))  # not closed: completion 0 %
    make.order(unit=other_station, due_at=at("2026-10-05"), status="closed", closed_at=at("2026-10-04"))
    make.order(unit=other_station, due_at=at("2026-10-06"), status="closed", closed_at=at("2026-10-05"))
    with time_machine.travel(NOVEMBER_15, tick=False):
        ranking = services.compute_ranking(month=dt.date(2026, 10, 1), tier="station", actor=supervisor)
    assert (ranking.weights, ranking.min_sample, ranking.list_size) == ({"completion": 1.0}, 2, 1)
    flags = {e.unit.code: (e.score, e.flag) for e in ranking.entries.select_related("unit") if e.flag}
    assert flags == {"LJ102": (100.0, "red"), "LJ101": (0.0, "black")}


def test_it_validates_a_policy_in_chinese():
    from django.core.exceptions import ValidationError

    from analytics.models import RankingPolicy

    for weights, message in (({"speed": 1}, "未知的指标"), ({"satisfaction": -1}, "不能为负数"), ({}, "请填写")):
        with pytest.raises(ValidationError) as err:
            RankingPolicy(weights=weights, min_sample=5, list_size=3).full_clean()
        assert message in str(err.value)
    RankingPolicy(weights={"satisfaction": 0.5, "repeat": 0.5}, min_sample=5, list_size=3).full_clean()


def test_the_ratios_of_one_pass_are_the_metrics_one_by_one():
    """``ratios()`` (built once per unit when 8,000 stations are scored) names every metric and
    gives what each metric's own property gives; the stored figures keep their shape."""
    from analytics.choices import METRIC_KEYS
    from analytics.metrics import COUNTERS

    counts = Counter({name: i + 1 for i, name in enumerate(COUNTERS)})
    m = UnitMetrics(7, counts, basic_weight=0.8)
    ratios = m.ratios()
    assert list(ratios) == METRIC_KEYS
    for key in METRIC_KEYS:
        assert ratios[key] == m.metric(key), key
        assert ratios[key].rate == pytest.approx(m.metric(key).num / m.metric(key).den)
    figures = m.as_dict()
    assert figures == m.as_dict(ratios)
    assert figures["counts"] == dict(counts)
    assert figures["satisfaction"] == {"num": 1 + 0.8 * 2, "den": 1 + 2 + 3, "rate": (1 + 1.6) / 6}
    assert (figures["ratings"], figures["sample"], figures["appeals"]) == (6, 6 + counts["due"], counts["appeals"])
    empty = UnitMetrics(8, Counter()).as_dict()
    assert empty["reply"] == {"num": 0, "den": 0, "rate": None} and empty["sample"] == 0
    assert services.score_of(m, WEIGHTS, ratios) == services.score_of(m, WEIGHTS)
