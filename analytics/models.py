"""Rankings (红黑榜) with their frozen entries, and generated bulletins (日归纳/周分析/月通报)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.choices import Tier
from units.models import TimelineEvent
from units.visibility import VisibleQuerySet, unit_scope

from .choices import BulletinKind, ListFlag, RankingStatus


class RankingPolicy(models.Model):
    """Administrator-editable weights and thresholds of the red/black lists.

    The newest active row is used by the next computation (a published ranking keeps the values
    it was computed with); without one, the ``ANALYTICS_RANKING_*`` settings apply.
    """

    weights = models.JSONField(
        _("指标权重"),
        help_text=_(
            'JSON，例如 {"satisfaction": 0.35, "completion": 0.2}；'
            "可用指标：satisfaction, completion, on_time, resolution, repeat, reply, escalation"
        ),
    )
    min_sample = models.PositiveIntegerField(_("最小样本量"), help_text=_("评价数 + 到期工单数低于此值的单位不排名"))
    list_size = models.PositiveSmallIntegerField(_("红黑榜各取单位数"), default=3)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("红黑榜规则")
        verbose_name_plural = _("红黑榜规则")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return str(_("红黑榜规则 #%(id)s") % {"id": self.pk})

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .choices import METRIC_LABELS

        if not isinstance(self.weights, dict) or not self.weights:
            raise ValidationError({"weights": _("请填写各指标的权重。")})
        unknown = sorted(set(self.weights) - set(METRIC_LABELS))
        if unknown:
            raise ValidationError({"weights": _("未知的指标：%(keys)s") % {"keys": ", ".join(unknown)}})
        try:
            values = [float(v) for v in self.weights.values()]
        except (TypeError, ValueError):
            raise ValidationError({"weights": _("权重必须是数字。")}) from None
        if any(v < 0 for v in values) or not any(v > 0 for v in values):
            raise ValidationError({"weights": _("权重不能为负数，且至少一项大于0。")})
        if self.list_size < 1:
            raise ValidationError({"list_size": _("至少取1个单位。")})


class RankingQuerySet(models.QuerySet):
    def visible_to(self, user) -> RankingQuerySet:
        """Published lists are read by every leader; drafts only by the city-wide roles."""
        scope = unit_scope(user)
        if scope is None:
            return self.all()
        if scope is False:
            return self.none()
        return self.filter(status=RankingStatus.PUBLISHED)


class Ranking(models.Model):
    """The red/black list of one month for one tier of comparable units.

    A draft is recomputed at will by ``services.compute_ranking``; publishing freezes it: its
    entries, weights and minimum sample are kept as they were, and a recompute is refused.
    """

    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    tier = models.CharField(_("单位层级"), max_length=16, choices=Tier.choices)
    status = models.CharField(_("状态"), max_length=12, choices=RankingStatus.choices, default=RankingStatus.DRAFT)
    weights = models.JSONField(_("指标权重"), default=dict)
    basic_weight = models.FloatField(_("基本满意折算系数"), default=1.0)
    min_sample = models.PositiveIntegerField(_("最小样本量"), default=0)
    list_size = models.PositiveSmallIntegerField(_("红黑榜各取单位数"), default=3)
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RankingQuerySet.as_manager()

    class Meta:
        verbose_name = _("红黑榜")
        verbose_name_plural = _("红黑榜")
        ordering = ["-month", "tier"]
        constraints = [models.UniqueConstraint(fields=["month", "tier"], name="ranking_once_per_month_tier")]

    def __str__(self) -> str:
        return f"{self.month:%Y年%m月} {self.get_tier_display()}"

    @property
    def is_published(self) -> bool:
        return self.status == RankingStatus.PUBLISHED

    @property
    def status_choice(self) -> RankingStatus:
        return RankingStatus(self.status)

    @property
    def month_is_over(self) -> bool:
        """Only a finished month can be published."""
        return self.month < timezone.localdate().replace(day=1)


class RankingEntry(models.Model):
    """One unit's line in a ranking: its figures, score and place, stored (never recomputed once published)."""

    # No index of its own: ``ranking_entry_once`` (ranking, unit) serves every look-up by ranking,
    # and a province's station tier writes 8,000 entries a computation.
    ranking = models.ForeignKey(Ranking, on_delete=models.CASCADE, related_name="entries", db_index=False)
    unit = models.ForeignKey("units.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    figures = models.JSONField(_("指标"), default=dict)
    sample = models.PositiveIntegerField(_("样本量"), default=0)
    score = models.FloatField(_("综合得分"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("名次"), null=True, blank=True)
    eligible = models.BooleanField(_("参与排名"), default=True)
    flag = models.CharField(_("榜单"), max_length=8, choices=ListFlag.choices, blank=True, default="")

    class Meta:
        verbose_name = _("红黑榜单位")
        verbose_name_plural = _("红黑榜单位")
        ordering = ["ranking", "rank", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["ranking", "unit"], name="ranking_entry_once")]

    def __str__(self) -> str:
        return f"{self.ranking} {self.unit}"

    def rate(self, key: str) -> float | None:
        return (self.figures.get(key) or {}).get("rate")


class RankingEvent(TimelineEvent):
    """One step of a ranking's history: computed, recomputed, published (who and when)."""

    ranking = models.ForeignKey(Ranking, on_delete=models.CASCADE, related_name="events")

    ACTION_LABELS = {"compute": _("计算"), "recompute": _("重新计算"), "publish": _("发布")}

    class Meta(TimelineEvent.Meta):
        pass


class BulletinQuerySet(VisibleQuerySet):
    def visible_to(self, user) -> BulletinQuerySet:
        """Bulletins are the city bureau's circulars: every signed-in member of staff may read them."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.all()


class Bulletin(models.Model):
    """A generated daily summary, weekly analysis or monthly bulletin, kept as it was generated.

    One per kind and period: generating again for the same period changes nothing.
    """

    kind = models.CharField(_("类型"), max_length=8, choices=BulletinKind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期（不含）"))
    title = models.CharField(_("标题"), max_length=100)
    summary = models.TextField(_("摘要"))
    content = models.JSONField(_("数据"), default=dict)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # The PDF is printed after the bulletin is kept (a task, re-driven by the hourly job).
    pdf = models.FileField(_("PDF"), upload_to="analytics/bulletins/", blank=True, default="")
    pdf_attempts = models.PositiveSmallIntegerField(default=0)
    pdf_error = models.CharField(max_length=300, blank=True, default="")

    objects = BulletinQuerySet.as_manager()

    class Meta:
        verbose_name = _("通报")
        verbose_name_plural = _("通报")
        ordering = ["-period_start", "kind", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "period_start"], name="bulletin_once_per_period")]

    def __str__(self) -> str:
        return self.title

    @property
    def last_day(self):
        import datetime as dt

        return self.period_end - dt.timedelta(days=1)


# --- Daily aggregates -------------------------------------------------------------------------
# Every figure of SPEC §9 over any period and any subtree is a sum of these rows, so the dashboard,
# the rankings and the bulletins never read history (see ``analytics.aggregates``).


class AggregateMark(models.Model):
    """A (local day, unit) bucket whose stored figures may be stale.

    Written by the analytics signal handlers in the same transaction as the fact that changed, so
    the row, not a broker message, is the intent. Append-only: each change inserts its own row (a
    bucket may have many), never updating another's, so two facts of the same day and unit never
    wait for each other's commit. The minute job recomputes the buckets of the marks it read and
    deletes exactly those rows; a mark committed after its read keeps its bucket for the next run.
    ``unit`` None: appeals not yet dispatched.
    """

    day = models.DateField()
    unit = models.ForeignKey(
        "units.Unit", null=True, blank=True, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("待重算统计")
        verbose_name_plural = _("待重算统计")
        indexes = [models.Index(fields=["day", "unit"], name="aggregate_mark_bucket")]


class DayFigures(models.Model):
    """Additive counts of one local day: every metric is a ratio of sums of these columns.

    ``resolved_by`` counts dissatisfied ratings by the verdict of their closed callback (the
    resolved verdicts are a setting, chosen at read time). ``escalations_first`` counts appeals
    whose escalation on this day is their first; ``escalations_after`` counts the others by the day
    of their previous escalation, so "distinct escalated appeals of a period" stays a sum (an
    appeal counts on its first escalation day inside the period). ``channels``, ``severities`` and
    ``categories`` split the day's appeals for the charts.
    """

    day = models.DateField()
    path = models.CharField(max_length=255, blank=True, default="")
    satisfied = models.PositiveIntegerField(default=0)
    basic = models.PositiveIntegerField(default=0)
    dissatisfied = models.PositiveIntegerField(default=0)
    declined = models.PositiveIntegerField(default=0)
    resolved_by = models.JSONField(default=dict)
    due = models.PositiveIntegerField(default=0)
    due_closed = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    appeals = models.PositiveIntegerField(default=0)
    repeat = models.PositiveIntegerField(default=0)
    escalations_first = models.PositiveIntegerField(default=0)
    escalations_after = models.JSONField(default=dict)
    sms_delivered = models.PositiveIntegerField(default=0)
    sms_replied = models.PositiveIntegerField(default=0)
    channels = models.JSONField(default=dict)
    severities = models.JSONField(default=dict)
    categories = models.JSONField(default=dict)

    class Meta:
        abstract = True


# A day row with any rating (a verdict or a declined answer).
RATED = models.Q(satisfied__gt=0) | models.Q(basic__gt=0) | models.Q(dissatisfied__gt=0) | models.Q(declined__gt=0)


class UnitDayFigures(DayFigures):
    """The facts owned by exactly one unit on one day (unit None: appeals not yet dispatched)."""

    unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("单位日统计")
        verbose_name_plural = _("单位日统计")
        constraints = [
            models.UniqueConstraint(fields=["unit", "day"], nulls_distinct=False, name="unit_day_figures_once")
        ]
        indexes = [
            models.Index(fields=["day"], name="unit_day_figures_day"),
            # The days a unit was rated, with the verdict counts: the evaluation overview's
            # per-unit table of 30 days reads them alone (index only), not every unit's days.
            models.Index(
                fields=["day"],
                include=["unit", "satisfied", "basic", "dissatisfied", "declined"],
                condition=RATED,
                name="unit_day_figures_rated",
            ),
        ]


class TreeDayFigures(DayFigures):
    """A unit's whole subtree on one day (node None: the whole city, undispatched appeals included),
    rebuilt from ``UnitDayFigures`` for every day that changed: any subtree over any period is
    one index range on (node, day)."""

    node = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("单位树日统计")
        verbose_name_plural = _("单位树日统计")
        constraints = [
            models.UniqueConstraint(fields=["node", "day"], nulls_distinct=False, name="tree_day_figures_once")
        ]
        indexes = [
            models.Index(fields=["day"], name="tree_day_figures_day"),
            # The whole city's days (node None: the center's dashboard, every bulletin): with
            # statistics older than a rebuild the planner read a month of every node's rows through
            # the day index (107,018 rows for 30) instead of the unique index's NULL range.
            models.Index(fields=["day"], condition=models.Q(node__isnull=True), name="tree_day_figures_city"),
        ]


class TreeMonthFigures(DayFigures):
    """A unit's whole subtree over one calendar month (``day``: its first day; node None: the whole
    city): the sum of that month's ``TreeDayFigures`` rows, kept with them in the same transaction
    (``aggregates._store_months``). A month, a quarter or a year of every station (the station tier
    of a ranking, a bulletin's lowest stations) reads one row per unit and month, not one per day."""

    node = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("单位树月统计")
        verbose_name_plural = _("单位树月统计")
        constraints = [
            models.UniqueConstraint(fields=["node", "day"], nulls_distinct=False, name="tree_month_figures_once")
        ]
        indexes = [
            models.Index(fields=["day"], name="tree_month_figures_day"),
            models.Index(fields=["day"], condition=models.Q(node__isnull=True), name="tree_month_figures_city"),
        ]
