"""Staff pages: who may open them, what a unit leader sees, publishing from the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from analytics import services
from analytics.models import Ranking
from units.models import Unit

from .conftest import at

pytestmark = pytest.mark.django_db

PAGES = ["analytics:dashboard", "analytics:rankings", "analytics:bulletins"]


def _client(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", PAGES)
def test_it_refuses_handlers(client, handler, name):
    assert _client(client, handler).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_it_sends_anonymous_users_to_login(client, city, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_shows_the_supervisor_the_city_with_drill_down(client, supervisor, make, station, district):
    make.appeal(unit=station, received_at=at("2026-11-10"))
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-11-10"))
    with time_machine.travel(at("2026-11-15"), tick=False):
        page = _client(client, supervisor).get(reverse("analytics:dashboard"))
        html = page.content.decode()
        assert page.status_code == 200
        assert 'data-unit="LJ100"' in html and 'data-unit="LJ050"' in html  # bureaus and departments
        assert f"unit={district.pk}" in html  # drill-down link
        assert "vendor/echarts/echarts.min.js" in html
        assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another host
        down = client.get(reverse("analytics:dashboard"), {"unit": district.pk}).content.decode()
    assert 'data-unit="LJ101"' in down and 'data-unit="LJ100"' not in down
    assert "江北分局" in down


def test_it_shows_a_leader_only_his_subtree(client, leader, make, station, other_station):
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-11-10"))
    make.rating(unit=other_station, verdict="dissatisfied", rated_at=at("2026-11-10"))
    with time_machine.travel(at("2026-11-15"), tick=False):
        c = _client(client, leader)
        page = c.get(reverse("analytics:dashboard"))
        html = page.content.decode()
        assert page.status_code == 200
        assert page.context["totals"].satisfaction.den == 1  # his station's rating only
        assert 'data-unit="LJ102"' not in html
        assert f"unit={station.parent_id}" not in html and "全市" not in html  # no crumb he cannot open
        assert c.get(reverse("analytics:dashboard"), {"unit": other_station.pk}).status_code == 404
        assert c.get(reverse("analytics:dashboard"), {"unit": station.parent_id}).status_code == 404


def test_it_explains_a_bad_custom_period_in_chinese(client, supervisor):
    html = (
        _client(client, supervisor)
        .get(reverse("analytics:dashboard"), {"period": "custom", "start": "2026-10-10", "end": "2026-10-01"})
        .content.decode()
    )
    assert "结束日期不能早于开始日期" in html


def test_it_counts_a_custom_period_with_both_ends_included(client, supervisor, make, station):
    make.appeal(unit=station, received_at=at("2026-10-01", "00:00"))
    make.appeal(unit=station, received_at=at("2026-10-03", "23:59"))
    make.appeal(unit=station, received_at=at("2026-10-04", "00:00"))
    page = _client(client, supervisor).get(
        reverse("analytics:dashboard"), {"period": "custom", "start": "2026-10-01", "end": "2026-10-03"}
    )
    assert page.context["totals"].appeals == 2


def test_it_publishes_from_the_rankings_page(client, supervisor, center, leader):
    with time_machine.travel(at("2026-11-15"), tick=False):
        c = _client(client, center)
        c.post(reverse("analytics:ranking_compute"), {"month": "2026-10", "tier": "station"})
        ranking = Ranking.objects.get()
        assert c.post(reverse("analytics:ranking_publish", args=[ranking.pk])).status_code == 403
        # A leader does not see drafts at all.
        client.force_login(leader)
        assert client.get(reverse("analytics:ranking", args=[ranking.pk])).status_code == 404
        assert (
            "ranking-panel-station"
            not in client.get(reverse("analytics:rankings"), {"month": "2026-10"}).content.decode()
        )
        client.force_login(supervisor)
        response = client.post(reverse("analytics:ranking_publish", args=[ranking.pk]))
        assert response.status_code == 302
        ranking.refresh_from_db()
        assert ranking.status == "published"
        page = client.get(reverse("analytics:rankings"), {"month": "2026-10"}).content.decode()
        assert 'data-testid="red-list"' in page and "已发布" in page
        # Recomputing a published month from the page is refused with a message, nothing changes.
        client.post(reverse("analytics:ranking_compute"), {"month": "2026-10", "tier": "station"}, follow=True)
        client.force_login(leader)
        assert client.get(reverse("analytics:ranking", args=[ranking.pk])).status_code == 200


def test_it_lists_bulletins_and_downloads_excel(client, supervisor, leader):
    with time_machine.travel(at("2026-11-15"), tick=False):
        bulletin, _ = services.generate_bulletin(kind="daily", on=dt.date(2026, 11, 14))
        c = _client(client, leader)
        assert bulletin.title in c.get(reverse("analytics:bulletins")).content.decode()
        detail = c.get(reverse("analytics:bulletin", args=[bulletin.pk]))
        assert detail.status_code == 200 and "analytics-data" in detail.content.decode()
        assert c.get(reverse("analytics:bulletin_print", args=[bulletin.pk])).status_code == 200
        xlsx = c.get(reverse("analytics:bulletin_excel", args=[bulletin.pk]))
        assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
        assert xlsx.content[:2] == b"PK"


def test_it_generates_on_demand_once(client, center):
    with time_machine.travel(at("2026-11-15"), tick=False):
        c = _client(client, center)
        for _ in range(2):
            r = c.post(reverse("analytics:bulletin_generate"), {"kind": "monthly", "on": "2026-10-05"})
            assert r.status_code == 302
        from analytics.models import Bulletin

        assert Bulletin.objects.count() == 1


def test_it_fills_the_home_panels(client, supervisor, leader, make, station):
    make.rating(unit=station, verdict="satisfied")
    assert 'data-panel="analytics-supervisor"' in _client(client, supervisor).get("/").content.decode()
    client.force_login(leader)
    home = client.get("/").content.decode()
    assert 'data-panel="analytics-leader"' in home and 'data-panel="analytics-supervisor"' not in home


def test_it_shows_units_only_in_the_menu_of_roles_that_may_open_them(client, handler, leader):
    assert reverse("analytics:dashboard") not in _client(client, handler).get("/").content.decode()
    client.force_login(leader)
    assert reverse("analytics:dashboard") in client.get("/").content.decode()
    assert Unit.objects.exists()


def test_it_draws_the_dashboard_in_a_fixed_number_of_queries(client, supervisor, make, station, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.aggregates import refresh_marked

    settings.ANALYTICS_REFRESH_ON_READ = False  # the production read: the minute job has run
    c = _client(client, supervisor)
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-10-10"))
    params = {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"}
    refresh_marked()
    with CaptureQueriesContext(connection) as few:
        c.get(reverse("analytics:dashboard"), params)
    for unit in Unit.objects.filter(tier="station"):
        make.rating(unit=unit, verdict="basic", rated_at=at("2026-10-11"))
        make.appeal(unit=unit, received_at=at("2026-10-11"))
    refresh_marked()
    with CaptureQueriesContext(connection) as many:
        page = c.get(reverse("analytics:dashboard"), params)
    assert page.context["totals"].ratings == 1 + Unit.objects.filter(tier="station").count()
    assert len(many) == len(few) <= 25


def test_it_lets_administrators_edit_the_ranking_rules(client, administrator):
    from analytics.models import RankingPolicy

    c = _client(client, administrator)
    url = reverse("admin:analytics_rankingpolicy_add")
    assert c.get(url).status_code == 200
    bad = c.post(url, {"weights": '{"speed": 1}', "min_sample": 5, "list_size": 3, "is_active": "on"})
    assert bad.status_code == 200 and "未知的指标" in bad.content.decode()
    good = c.post(url, {"weights": '{"satisfaction": 1}', "min_sample": 5, "list_size": 2, "is_active": "on"})
    assert good.status_code == 302
    assert RankingPolicy.objects.get().weights == {"satisfaction": 1}
    assert c.get(reverse("admin:analytics_ranking_changelist")).status_code == 200
    assert c.get(reverse("admin:analytics_bulletin_changelist")).status_code == 200


def _province(city):
    """A second city beside the demo city 临江市, with two bureaus of its own."""
    other = Unit.objects.create(code="QY000", name="青阳市公安局", tier="city")
    bureaus = [
        Unit.objects.create(code=f"QY10{i}", name=f"青阳{i}分局", tier="district", parent=other, sort_order=i)
        for i in range(2)
    ]
    return other, bureaus


def test_a_province_dashboard_lists_its_cities_and_drills_down_a_city(client, supervisor, make, station, city):
    other, bureaus = _province(city)
    make.appeal(unit=station, received_at=at("2026-11-10"))
    make.appeal(unit=bureaus[1], received_at=at("2026-11-10"))
    make.appeal(unit=bureaus[1], received_at=at("2026-11-11"))
    with time_machine.travel(at("2026-11-15"), tick=False):
        c = _client(client, supervisor)
        page = c.get(reverse("analytics:dashboard"))
        html = page.content.decode()
        assert [u.code for u, _m in page.context["rows"]] == ["LJ000", "QY000"]  # the cities, not their bureaus
        assert page.context["totals"].appeals == 3
        assert f"unit={other.pk}" in html and f"unit={city.pk}" in html
        down = c.get(reverse("analytics:dashboard"), {"unit": other.pk, "period": "year"})
        assert [u.code for u, _m in down.context["rows"]] == ["QY100", "QY101"]
        assert down.context["totals"].appeals == 2
        crumbs = down.content.decode().split('data-testid="crumbs"')[1].split("</p>")[0]
        assert "全省" in crumbs and "青阳市公安局" in crumbs


def test_the_unit_table_sorts_by_a_column_and_pages(client, supervisor, make, station, other_station, monkeypatch):
    from analytics import selectors

    for _ in range(3):
        make.appeal(unit=other_station, received_at=at("2026-11-10"))
    make.appeal(unit=station, received_at=at("2026-11-10"))
    make.rating(unit=station, verdict="dissatisfied", rated_at=at("2026-11-10"))
    make.rating(unit=other_station, verdict="satisfied", rated_at=at("2026-11-10"))
    with time_machine.travel(at("2026-11-15"), tick=False):
        c = _client(client, supervisor)
        url = reverse("analytics:dashboard")
        by_appeals = [m.appeals for _u, m in c.get(url, {"sort": "appeals", "desc": "on"}).context["rows"]]
        assert by_appeals == sorted(by_appeals, reverse=True) and by_appeals[0] >= 3
        worst_first = c.get(url, {"sort": "satisfaction"}).context["rows"]
        rates = [m.satisfaction.rate for _u, m in worst_first]
        measured = [r for r in rates if r is not None]
        assert measured == sorted(measured) and rates[: len(measured)] == measured  # empty rates last
        monkeypatch.setattr(selectors, "UNIT_PAGE_SIZE", 2)
        first = c.get(url, {"sort": "name"})
        second = c.get(url, {"sort": "name", "page": 2})
        bad = c.get(url, {"sort": "nonsense"})
    codes = [u.code for u, _m in first.context["rows"]] + [u.code for u, _m in second.context["rows"]]
    assert len(first.context["rows"]) == 2 and codes == sorted(codes)
    assert first.context["rows_page"].paginator.count > 2
    assert "page=2" in first.content.decode() and 'data-testid="unit-pager"' in first.content.decode()
    assert bad.status_code == 200 and "排序" in bad.content.decode() and bad.context["sort"] == ""


def test_the_full_ranking_pages_and_the_lists_page_reads_only_the_listed(client, supervisor, make, monkeypatch):
    from analytics import services, views

    for i, unit in enumerate(Unit.objects.filter(tier="station").order_by("code")):
        for _ in range(3):
            make.rating(unit=unit, verdict="satisfied" if i % 2 else "dissatisfied", rated_at=at("2026-10-10"))
    with time_machine.travel(at("2026-11-15"), tick=False):
        ranking = services.compute_ranking(month=dt.date(2026, 10, 1), tier="station", min_sample=1)
        monkeypatch.setattr(views, "RANKING_PAGE_SIZE", 2)
        c = _client(client, supervisor)
        detail = c.get(reverse("analytics:ranking", args=[ranking.pk]))
        last = c.get(reverse("analytics:ranking", args=[ranking.pk]), {"page": 99})
        lists = c.get(reverse("analytics:rankings"), {"month": "2026-10"})
    stations = Unit.objects.filter(tier="station").count()
    assert [e.rank for e in detail.context["entries_page"]] == [1, 1]
    assert detail.context["entries_page"].paginator.count == stations
    assert last.context["entries_page"].number == detail.context["entries_page"].paginator.num_pages
    flagged = {e.unit_id for e in ranking.entries.exclude(flag="")}
    shown = lists.context["lists"][0]
    assert {e.unit_id for e in shown["red"] + shown["black"]} == flagged and flagged
    assert "entries" not in shown


def test_the_dashboard_and_the_home_panel_say_when_the_figures_are_behind(client, supervisor, settings):
    """With the minute job not running (no worker, no beat) the changes' marks pile up: the pages
    that read the stored figures say since when they are behind instead of showing old figures as
    current."""
    from django.utils import timezone

    from analytics.models import AggregateMark

    settings.ANALYTICS_REFRESH_ON_READ = False  # the production read
    c = _client(client, supervisor)
    assert 'data-testid="figures-behind"' not in c.get(reverse("analytics:dashboard")).content.decode()
    AggregateMark.objects.create(day=dt.date(2026, 10, 10), unit=None)  # just now: the job has a minute
    assert 'data-testid="figures-behind"' not in c.get(reverse("analytics:dashboard")).content.decode()
    AggregateMark.objects.update(marked_at=timezone.now() - dt.timedelta(minutes=10))
    for page in (reverse("analytics:dashboard"), "/"):
        html = c.get(page).content.decode()
        assert 'data-testid="figures-behind"' in html and "统计数据有延迟" in html, page
