"""``row_url`` (``{% row_url %}``) gives exactly what ``reverse`` gives, cheaply per row."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import NoReverseMatch, clear_url_caches, reverse, set_script_prefix

from units.row_urls import _pieces, row_url

IDS = [0, 1, 7, 42, 12345, 10**12]
NAMES = [
    ("workorders:detail", ()),
    ("workorders:reply", ()),
    ("workorders:move", ("approve",)),
    ("workorders:move", ("return",)),
    ("intake:appeal", ()),
    ("surveys:callback_detail", ()),
    ("sms:requeue", ()),
]


@pytest.fixture(autouse=True)
def _fresh():
    _pieces.cache_clear()
    yield
    _pieces.cache_clear()
    set_script_prefix("/")


def test_it_gives_reverses_url_for_every_row_id_and_fixed_word():
    for name, words in NAMES:
        for pk in IDS:
            assert row_url(name, pk, *words) == reverse(name, args=[pk, *words]), (name, pk)


def test_it_keys_the_pieces_by_the_script_prefix():
    assert row_url("workorders:detail", 5) == reverse("workorders:detail", args=[5])
    set_script_prefix("/opinion/")
    assert row_url("workorders:detail", 5) == reverse("workorders:detail", args=[5])
    assert row_url("workorders:detail", 5).startswith("/opinion/")


@override_settings(ROOT_URLCONF="tests.units.row_url_patterns")
def test_it_falls_back_to_reverse_where_it_cannot_cut():
    clear_url_caches()
    try:
        # A converter refusing the stand-in, one writing ids its own way, and two ids in one URL.
        assert row_url("year", 2026) == reverse("year", args=[2026]) == "/year/2026/"
        assert row_url("hex", 255) == reverse("hex", args=[255]) == "/hex/ff/"
        assert row_url("two_ids", 12, "move", 3) == reverse("two_ids", args=[12, "move", 3]) == "/order/12/move/3/"
        assert row_url("two_ids", 12, "a b", 3) == reverse("two_ids", args=[12, "a b", 3])  # quoted as reverse does
        # A negative number is not a row id: reversed as it is, and refused as reverse refuses it.
        for call in (row_url, lambda *a: reverse(a[0], args=a[1:])):
            with pytest.raises(NoReverseMatch):
                call("two_ids", 1, "x", -3)
    finally:
        clear_url_caches()


def test_the_tag_escapes_and_assigns_like_url():
    html = Template(
        '{% load row_urls %}<a href="{% row_url "workorders:detail" pk %}">'
        '{% row_url "workorders:reply" pk as reply %}{{ reply }}'
    ).render(Context({"pk": 9}))
    assert html == f'<a href="{reverse("workorders:detail", args=[9])}">{reverse("workorders:reply", args=[9])}'
