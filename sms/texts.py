"""SMS texts and times, with no database: the built-in templates, rendering, segment counting
and the sending hours. The lowest module of the SMS layer (models and backends use it)."""

from __future__ import annotations

import datetime as dt
import string
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

SEGMENT_UCS2, PART_UCS2 = 70, 67
SEGMENT_GSM, PART_GSM = 160, 153

# Default templates, seeded into SmsTemplate (admin-editable) and used when a row is missing.
# Each: (name, text, the longest value of each parameter).
DEFAULT_TEMPLATES: dict[str, tuple[str, str, dict[str, str]]] = {
    "eval_110": (
        "110接处警回访",
        "请您对{date}110接处警工作进行评价：满意回1，基本满意回2，不满意回3，不评价回0。",
        {"date": "12月31日"},
    ),
    "eval_122": (
        "122交通事故回访",
        "请您对{date}交通事故处理工作进行评价：满意回1，基本满意回2，不满意回3，不评价回0。",
        {"date": "12月31日"},
    ),
    "eval_household": (
        "户政业务回访",
        "请您对{date}办理的户政业务进行评价：满意回1，基本满意回2，不满意回3，不评价回0。",
        {"date": "12月31日"},
    ),
    "eval_vehicle": (
        "车驾管业务回访",
        "请您对{date}办理的车驾管业务进行评价：满意回1，基本满意回2，不满意回3，不评价回0。",
        {"date": "12月31日"},
    ),
    "eval_exit_entry": (
        "出入境业务回访",
        "请您对{date}办理的出入境业务进行评价：满意回1，基本满意回2，不满意回3，不评价回0。",
        {"date": "12月31日"},
    ),
    "eval_case": (
        "案件办理回访",
        "请您对{date}民警办理案件的工作进行评价：满意回1，基本满意回2，不满意回3，不评价回0。",
        {"date": "12月31日"},
    ),
    "eval_window": (
        "窗口服务回访",
        "请您对{date}公安窗口服务进行评价：满意回1，基本满意回2，不满意回3，不评价回0。",
        {"date": "12月31日"},
    ),
    "eval_follow_up": (
        "不满意原因追问",
        "请问您主要对哪方面不满意？回1响应速度，回2服务态度，回3办理结果，回4公正廉洁。",
        {},
    ),
    # Step notices (docs/sms.md, "Citizens hear at each step"); the link is PUBLIC_BASE_URL + /track/.
    "appeal_received": (
        "诉求受理告知",
        "您的诉求已受理，查询码{code}，可在{link}查询进度。",
        {"code": "ABCDEFGHJKMN", "link": "https://mydc.ljga.gov.cn:8443/track/"},
    ),
    "appeal_dispatched": (
        "诉求转办告知",
        "您反映的问题(查询码{code})已转{unit}办理，请保持电话畅通。",
        {"code": "ABCDEFGHJKMN", "unit": "临江市公安局交通警察支队直属三大队"},
    ),
    "appeal_extended": (
        "诉求延期告知",
        "您反映的问题(查询码{code})办理时限延至{date}，感谢您的耐心。",
        {"code": "ABCDEFGHJKMN", "date": "12月31日"},
    ),
    "appeal_closed": (
        "诉求办结告知",
        "您反映的问题(查询码{code})已办结，可凭查询码查询答复。如有意见请回复3。",
        {"code": "ABCDEFGHJKMN"},
    ),
    "urge_reminder": (
        "工单催办提醒",
        "工单{order}将于{when}到期，请及时办理。",
        {"order": "GD20261231-000123", "when": "12月31日 23:59"},
    ),
    # The personal link of a sampling survey: the longest link a deployment should use is the
    # sample (a host of up to 26 characters); a longer PUBLIC_BASE_URL makes two segments.
    "survey_invite": (
        "民意调查邀请",
        "临江公安民意调查，邀您参与（约2分钟）：{link} 回TD退订",
        {"link": "https://mydc.ljga.gov.cn:8443/s/AbCdEfGhJk/"},
    ),
}


class TemplateMissing(LookupError):
    """No SMS template with that code (neither in the database nor among the defaults)."""


def render_text(text: str, params: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders; a missing parameter raises KeyError (never a half message)."""
    return string.Formatter().vformat(text, (), {k: str(v) for k, v in (params or {}).items()})


def segments_of(text: str) -> int:
    """Billable segments: UCS-2 (any Chinese) is 70 in one, 67 per part; GSM-7 is 160 / 153."""
    gsm = all(ord(ch) < 128 for ch in text)
    one, part = (SEGMENT_GSM, PART_GSM) if gsm else (SEGMENT_UCS2, PART_UCS2)
    n = len(text)
    if n <= one:
        return 1
    return -(-n // part)


# --- sending hours ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _parse_hours(spec: str) -> tuple[dt.time, dt.time]:
    start, end = (part.strip() for part in spec.split("-"))
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def sending_hours() -> tuple[dt.time, dt.time]:
    return _parse_hours(settings.SMS_SEND_HOURS)


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE))


def in_sending_hours(moment: dt.datetime | None = None) -> bool:
    start, end = sending_hours()
    t = _local(moment or timezone.now()).time()
    return start <= t < end


def next_sending_time(moment: dt.datetime | None = None) -> dt.datetime:
    """``moment`` itself when inside sending hours, else the start of the next window."""
    moment = moment or timezone.now()
    if in_sending_hours(moment):
        return moment
    start, _end = sending_hours()
    local = _local(moment)
    candidate = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += dt.timedelta(days=1)
    return candidate


def window_end(moment: dt.datetime) -> dt.datetime:
    """The end of the sending window that ``moment`` (inside it) belongs to."""
    _start, end = sending_hours()
    return _local(moment).replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
