"""Choices of the analytics app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RankingStatus(models.TextChoices):
    """A ranking is a draft (recomputable) until published; a published month is frozen."""

    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")

    @property
    def css(self) -> str:
        return {"draft": "state-warn", "published": "state-ok"}[self.value]


class ListFlag(models.TextChoices):
    NONE = "", _("—")
    RED = "red", _("红榜")
    BLACK = "black", _("黑榜")


class BulletinKind(models.TextChoices):
    DAILY = "daily", _("日归纳")
    WEEKLY = "weekly", _("周分析")
    MONTHLY = "monthly", _("月通报")


class PeriodKind(models.TextChoices):
    TODAY = "today", _("今日")
    WEEK = "week", _("本周")
    MONTH = "month", _("本月")
    QUARTER = "quarter", _("本季度")
    YEAR = "year", _("本年")
    CUSTOM = "custom", _("自定义")


# The metrics of SPEC §9, in display order, with their Chinese names.
METRIC_LABELS = {
    "satisfaction": _("满意率"),
    "completion": _("办结率"),
    "on_time": _("按期办结率"),
    "resolution": _("不满意事项化解率"),
    "repeat": _("重复投诉率"),
    "reply": _("回复率"),
    "escalation": _("升级投诉率"),
}
METRIC_KEYS = list(METRIC_LABELS)
# Metrics where a lower rate is better: the ranking scores them as 1 − rate.
LOWER_IS_BETTER = frozenset({"repeat", "escalation"})
