"""Workspace and home counts read open orders only, each bounded by a LIMIT (shown as "1000+")."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workorders import selectors, services

pytestmark = pytest.mark.django_db


def test_tab_counts_are_bounded_and_shown_as_more_than_the_cap(monkeypatch, make_appeal, station, center, handler):
    for _ in range(3):
        services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    with CaptureQueriesContext(connection) as ctx:
        tabs = {t["key"]: t for t in selectors.workspace_tabs(handler)}
    assert tabs["to_sign"]["count"] == 3 and tabs["to_sign"]["count_label"] == "2+"
    assert tabs["in_progress"]["count_label"] == "0"
    assert tabs["closed"]["count"] is None and tabs["all"]["count"] is None
    # Every counted tab in one statement, each count stopping at cap + 1 rows.
    counted = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counted) == 1, counted
    assert counted[0].count("LIMIT 3)") == len(selectors.COUNTED_TABS), counted


def test_home_panel_counts_are_bounded(rf, center, make_appeal, station):
    services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    request = rf.get("/")
    request.user = center
    with CaptureQueriesContext(connection) as ctx:
        panel = selectors.center_panel(request)
    assert panel["review"] == 0
    counted = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counted) == 5 and all("LIMIT" in sql for sql in counted), counted
