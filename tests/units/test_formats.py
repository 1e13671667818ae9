"""Dates follow the active language: 2026-12-07 09:30 in Chinese, 07 Dec 2026 09:30 in English.

Templates name a format (``|date:"SHORT_DATETIME_FORMAT"``); the patterns live in
``opinion_center/formats/<locale>/formats.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import formats, translation

from units.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Hard-coded patterns still allowed: a machine log read to the second (delivery attempts, phone
# reveals: the same digits in every language) and month-day stamps of compact list columns.
ALLOWED = {'date:"Y-m-d H:i:s"', 'date:"m-d H:i:s"', 'date:"m-d H:i"', 'date:"m-d"', 'date:"l"'}


def test_no_template_writes_a_date_pattern_where_a_format_applies():
    found = []
    for path in sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"""date:(["'])([^"']*)\1""", text):
            pattern = match.group(2)
            if pattern.isupper() or match.group(0) in ALLOWED:
                continue
            line = text[: match.start()].count("\n") + 1
            context = text[max(match.start() - 40, 0) : match.start()]
            if "value=" in context or "href=" in context:
                continue  # a form value or a query parameter: ISO whatever the language
            found.append(f"{path.relative_to(settings.BASE_DIR)}:{line}: {match.group(0)}")
    assert not found, "use a named format (SHORT_DATETIME_FORMAT…):\n" + "\n".join(found)


def test_each_language_has_its_own_formats():
    moment = dt.datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI)
    with translation.override("zh-hans"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2026-12-07 09:30"
        assert formats.date_format(moment, "DATE_FORMAT") == "2026年12月7日"
    with translation.override("en"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "07 Dec 2026 09:30"
        assert formats.date_format(moment, "DATE_FORMAT") == "7 December 2026"


@pytest.mark.django_db
def test_a_list_shows_dates_in_the_active_language(client, center):
    note = Notification.objects.create(user=center, text="新工单待签收", url="/workorders/")
    Notification.objects.filter(pk=note.pk).update(created_at=dt.datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI))
    client.force_login(center)

    chinese = client.get("/units/notifications/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/units/notifications/").content.decode()

    assert "2026-12-07 09:30" in chinese and "07 Dec 2026" not in chinese
    assert "07 Dec 2026 09:30" in english and "2026-12-07 09:30" not in english
