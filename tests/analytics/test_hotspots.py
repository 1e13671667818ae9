"""Hotspots (一类事): similar appeals from different citizens within the window."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analytics.hotspots import find_hotspots, group_texts

from .conftest import OCTOBER, at

pytestmark = pytest.mark.django_db

NOISE = [
    "滨江路88号酒吧每天夜里噪音扰民，吵得睡不着",
    "滨江路88号那家酒吧半夜音乐声太大，噪音扰民",
    "投诉滨江路88号酒吧夜间噪音扰民严重",
]


def test_it_groups_similar_texts_and_keeps_different_ones_apart():
    groups = group_texts([(1, NOISE[0]), (2, "北湖路红绿灯左转时间太短"), (3, NOISE[1]), (4, NOISE[2])], threshold=0.35)
    assert sorted(map(sorted, groups)) == [[1, 3, 4], [2]]


def test_it_surfaces_one_class_of_problem_from_different_citizens(make, station):
    for i, text in enumerate(NOISE):
        make.appeal(unit=station, content=text, address="滨江路88号", received_at=at("2026-10-10", f"2{i}:00"))
    make.appeal(unit=station, content="电动车被盗，请求帮助", received_at=at("2026-10-11"))
    hotspots = find_hotspots(OCTOBER)
    assert len(hotspots) == 1
    (h,) = hotspots
    assert (h.citizens, h.size, h.address) == (3, 3, "滨江路88号")
    assert h.units == [station.name]


def test_it_does_not_count_one_citizen_calling_three_times_as_a_hotspot(make, station):
    for text in NOISE:
        make.appeal(unit=station, content=text, phone="+8613800009999")
    assert find_hotspots(OCTOBER) == []


def test_it_ignores_appeals_outside_the_window(make, station):
    for i, text in enumerate(NOISE):
        make.appeal(unit=station, content=text, received_at=at("2026-09-2" + str(i)))
    assert find_hotspots(OCTOBER) == []


def test_it_keeps_a_class_of_problem_within_the_window(make, station, settings):
    settings.ANALYTICS_HOTSPOT_WINDOW_DAYS = 7
    for day, text in zip(("2026-10-01", "2026-10-12", "2026-10-24"), NOISE, strict=True):
        make.appeal(unit=station, content=text, received_at=at(day))
    assert find_hotspots(OCTOBER) == []
    assert len(find_hotspots(OCTOBER, window_days=30)) == 1


def test_it_examines_the_most_recent_appeals_when_there_are_too_many(make, station, settings):
    settings.ANALYTICS_HOTSPOT_MAX_APPEALS = 3
    for i in range(4):
        make.appeal(unit=station, content=f"第{i}件无关的事情{i * 7919}", received_at=at("2026-10-02", f"1{i}:00"))
    for i, text in enumerate(NOISE):
        make.appeal(unit=station, content=text, received_at=at("2026-10-20", f"2{i}:00"))
    assert [h.citizens for h in find_hotspots(OCTOBER)] == [3]


def test_the_dashboard_reads_hotspots_kept_a_few_minutes_and_the_minute_job_refreshes_them(
    make, station, settings, django_assert_num_queries
):
    """Grouping a province's newest appeals costs most of a second: the dashboard reads the kept
    result (ANALYTICS_HOTSPOT_CACHE_SECONDS) and the minute job recomputes the city's periods."""
    import uuid

    from analytics.hotspots import recent_hotspots, warm_hotspots
    from analytics.periods import to_date

    settings.ANALYTICS_REFRESH_ON_READ = False  # the production read
    settings.ANALYTICS_HOTSPOT_CACHE_SECONDS = 300
    settings.CACHES = {**settings.CACHES}
    settings.CACHES["default"] = {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    for i, text in enumerate(NOISE):
        make.appeal(unit=station, content=text, received_at=at("2026-10-10", f"2{i}:00"))
    assert [h.citizens for h in recent_hotspots(OCTOBER)] == [3]
    make.appeal(unit=station, content=NOISE[0], received_at=at("2026-10-10", "23:30"))
    with django_assert_num_queries(0):
        assert [h.size for h in recent_hotspots(OCTOBER)] == [3]  # kept: the new appeal is not seen yet
    assert [h.size for h in recent_hotspots(OCTOBER, refresh=True)] == [4]
    settings.ANALYTICS_HOTSPOT_CACHE_SECONDS = 0
    make.appeal(unit=station, content=NOISE[1], received_at=at("2026-10-10", "23:40"))
    assert [h.size for h in recent_hotspots(OCTOBER)] == [5]

    settings.ANALYTICS_HOTSPOT_CACHE_SECONDS = 300
    periods = {(p.first, p.until) for p in to_date(timezone.localdate()).values()}  # a Monday's week is today
    assert warm_hotspots() == len(periods)
    assert warm_hotspots() == 0  # still fresh: nothing recomputed
