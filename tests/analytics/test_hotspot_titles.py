"""A hotspot's title in a bulletin is cut where a phrase ends, not in the middle of one, and the
printed hotspot table has as many headers as columns."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string

from analytics.hotspots import find_hotspots, hotspot_title

from .conftest import OCTOBER, at


def test_it_keeps_a_short_title_whole():
    assert hotspot_title("夜市烧烤油烟扰民", 20) == "夜市烧烤油烟扰民"
    assert hotspot_title("  夜市烧烤\n油烟扰民 ", 20) == "夜市烧烤 油烟扰民"


def test_it_cuts_a_long_title_where_a_phrase_ends():
    text = "小区门口夜间常有货车鸣笛卸货，影响居民休息，多次反映无果"
    assert hotspot_title(text, 18) == "小区门口夜间常有货车鸣笛卸货…"
    assert hotspot_title(text, 22) == "小区门口夜间常有货车鸣笛卸货，影响居民休息…"


def test_a_phrase_ending_right_at_the_limit_is_kept():
    assert hotspot_title("滨江路酒吧噪音扰民，每天夜里吵到凌晨", 10) == "滨江路酒吧噪音扰民…"


def test_it_never_splits_a_number_or_a_latin_word():
    title = hotspot_title("滨江路口早高峰拥堵车牌号ABC12345的货车", 16)
    assert title == "滨江路口早高峰拥堵车牌号…"
    assert len(title) <= 16


@pytest.mark.django_db
def test_a_hotspot_is_titled_by_whole_phrases(make, station):
    long = "滨江路88号酒吧每天夜里噪音扰民，吵得附近几栋楼的老人孩子都睡不着觉，多次投诉没有效果"
    texts = [long, "滨江路88号那家酒吧半夜音乐声太大，噪音扰民", "投诉滨江路88号酒吧夜间噪音扰民严重"]
    for i, text in enumerate(texts):
        make.appeal(unit=station, content=text, address="滨江路88号", received_at=at("2026-10-10", f"2{i}:00"))
    (hotspot,) = find_hotspots(OCTOBER)
    assert hotspot.label == "滨江路88号酒吧每天夜里噪音扰民，吵得附近几栋楼的老人孩子都睡不着觉…"


def test_the_printed_hotspot_table_has_no_column_without_a_header():
    hotspot = {
        "label": "滨江路酒吧噪音扰民",
        "appeal_ids": [1],
        "citizens": 3,
        "size": 3,
        "category": "噪音扰民",
        "address": "滨江路88号",
        "units": ["滨江派出所"],
    }
    html = render_to_string("analytics/_hotspots.html", {"hotspots": [hotspot]})

    def printed(cells: list[str]) -> list[str]:
        return [c for c in cells if "an-noprint" not in c]  # hidden in print and in the PDF

    headers = printed(re.findall(r"<th\b[^>]*>", re.search(r"<thead>.*?</thead>", html, re.S).group(0)))
    cells = printed(re.findall(r"<td\b[^>]*>", re.search(r"<tbody>.*?</tbody>", html, re.S).group(0)))
    assert len(headers) == len(cells) == 6
