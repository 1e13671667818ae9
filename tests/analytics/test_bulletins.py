"""Bulletins: one per kind and period, made by the periodic job, kept, exported."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from analytics import services
from analytics.exports import bulletin_xlsx
from analytics.models import Bulletin, Ranking
from analytics.tasks import generate_due_bulletins_task

from .conftest import at

pytestmark = pytest.mark.django_db


def test_it_generates_a_bulletin_once_per_period(make, station, center):
    make.appeal(unit=station, received_at=at("2026-10-13", "09:00"))
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-10-14"))
    with time_machine.travel(at("2026-11-02", "08:00"), tick=False):
        first, created = services.generate_bulletin(kind="weekly", on=dt.date(2026, 10, 15), actor=center)
        make.appeal(unit=station, received_at=at("2026-10-14"))  # later data changes nothing kept
        again, created_again = services.generate_bulletin(kind="weekly", on=dt.date(2026, 10, 18), actor=center)
    assert created and not created_again and again.pk == first.pk
    assert Bulletin.objects.count() == 1
    again.refresh_from_db()
    assert (again.period_start, again.period_end) == (dt.date(2026, 10, 12), dt.date(2026, 10, 19))
    assert again.content["totals"]["appeals"] == 1
    assert again.content["totals"]["satisfaction"]["rate"] == 1.0
    assert "全市共受理群众诉求1件" in again.summary and "满意率100.0%" in again.summary
    assert again.title == "2026年10月12日—10月18日民意周分析"
    assert again.content["previous"]["first"] == "2026-10-05"
    assert "诉求量较上期增加1件。" in again.summary


def test_it_refuses_a_period_that_has_not_ended(center):
    with time_machine.travel(at("2026-11-15"), tick=False), pytest.raises(ValidationError):
        services.generate_bulletin(kind="monthly", on=dt.date(2026, 11, 3), actor=center)
    assert not Bulletin.objects.exists()


def test_it_makes_what_is_due_once_when_the_job_runs_twice(make, station):
    make.appeal(unit=station, received_at=at("2026-11-01", "15:00"))
    with time_machine.travel(at("2026-11-02", "00:10"), tick=False):
        first = generate_due_bulletins_task()
        second = generate_due_bulletins_task()
    assert len(first) == 3 and second == []
    kinds = dict(Bulletin.objects.values_list("kind", "period_start"))
    assert kinds == {"daily": dt.date(2026, 11, 1), "weekly": dt.date(2026, 10, 26), "monthly": dt.date(2026, 10, 1)}
    assert Bulletin.objects.get(kind="daily").content["totals"]["appeals"] == 1
    assert set(Ranking.objects.values_list("month", "tier", "status")) == {
        (dt.date(2026, 10, 1), tier, "draft") for tier in ("station", "district", "department")
    }


def test_it_exports_excel_without_turning_citizens_text_into_formulas(make, station):
    for i in range(3):
        make.appeal(
            unit=station,
            content='=HYPERLINK("http://evil.example","滨江路口噪音扰民")  滨江路酒吧夜间噪音扰民严重',
            received_at=at("2026-10-20", f"1{i}:00"),
        )
    with time_machine.travel(at("2026-11-02"), tick=False):
        bulletin, _ = services.generate_bulletin(kind="monthly", on=dt.date(2026, 10, 1))
    book = load_workbook(io.BytesIO(bulletin_xlsx(bulletin)))
    assert book.sheetnames == ["概况", "单位", "每日", "渠道", "一类事", "预警"]
    assert book["概况"]["A1"].value == "2026年10月民意月通报"
    hot = book["一类事"]["A2"]
    assert hot.data_type == "s" and hot.value.startswith("=HYPERLINK")
    assert book["一类事"]["C2"].value == 3
    assert len(list(book["每日"].iter_rows(min_row=2))) == 31


def test_the_excel_export_has_the_alerts_of_the_period(station):
    """The page, the print view and the PDF show the period's alerts; so does the workbook."""
    from alerts.models import Alert

    Alert.objects.create(
        detector="group",
        key="滨江路",
        title="滨江路夜间噪音集中反映",
        place="滨江路 13800001234",
        unit=station,
        observed=7,
        expected=1.25,
        threshold=5,
        is_listed=True,
        raised_at=at("2026-10-20", "10:30"),
    )
    Alert.objects.create(detector="caller", key="k" * 64, title="九月的预警", raised_at=at("2026-09-30", "10:00"))
    with time_machine.travel(at("2026-11-02"), tick=False):
        bulletin, _ = services.generate_bulletin(kind="monthly", on=dt.date(2026, 10, 1))
    sheet = load_workbook(io.BytesIO(bulletin_xlsx(bulletin)))["预警"]
    assert sheet["A1"].value == "共1条，未处置1条"
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert rows[0][:4] == ("预警时间", "类型", "预警", "地点/来电人")
    assert len(rows) == 2
    raised, _kind, title, where, _category, unit, observed, expected, threshold, _state, listed = rows[1]
    assert (raised, title, unit, observed, expected, threshold, listed) == (
        "2026-10-20 10:30",
        "滨江路夜间噪音集中反映",
        station.name,
        7,
        1.25,
        5,
        "是",
    )
    assert "13800001234" not in where and where.startswith("滨江路")  # a phone in citizens' text is masked


def test_it_generates_from_the_command(make, station):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    with time_machine.travel(at("2026-11-02", "00:10"), tick=False):
        call_command("generate_bulletins", "--kind", "monthly", "--date", "2026-10-09", stdout=out)
        call_command("generate_bulletins", "--kind", "monthly", "--date", "2026-10-09", stdout=out)
        call_command("generate_bulletins", stdout=out)
        with pytest.raises(CommandError):
            call_command("generate_bulletins", "--kind", "daily", "--date", "2026/10/09")
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["生成：2026年10月民意月通报", "已存在：2026年10月民意月通报"]
    assert len(lines) == 4  # then yesterday's daily summary and last week's analysis
    assert Bulletin.objects.count() == 3


def test_it_compares_with_the_previous_period(make, station):
    for day, verdicts in (
        ("2026-09-15", ["satisfied", "dissatisfied"]),
        ("2026-10-15", ["satisfied"] * 3 + ["dissatisfied"]),
    ):
        make.appeal(unit=station, received_at=at(day))
        for verdict in verdicts:
            make.rating(unit=station, verdict=verdict, rated_at=at(day))
    with time_machine.travel(at("2026-11-02"), tick=False):
        bulletin, _ = services.generate_bulletin(kind="monthly", on=dt.date(2026, 10, 1))
    assert bulletin.content["previous"]["totals"]["satisfaction"]["rate"] == 0.5
    assert "诉求量与上期持平，满意率上升25.0个百分点。" in bulletin.summary
    sheet = load_workbook(io.BytesIO(bulletin_xlsx(bulletin)))["概况"]
    assert (sheet["A7"].value, sheet["D7"].value, sheet["E7"].value) == ("满意率", 0.75, 0.5)
