"""Early warnings (预警): the rules of each detector, the alerts they raise, their evidence and timeline."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.models import TimelineEvent
from units.visibility import VisibleQuerySet

from .choices import OPEN_STATES, AlertState, Detector, EventAction


class WarningRule(models.Model):
    """The parameters of one detector, editable in the admin (one row per detector).

    Not every field serves every detector; docs/alerts.md says which one reads which:
    surge: window_hours, baseline_days, p_value, min_count;
    caller: window_hours (look-back for channels), min_channels, baseline_days (how long after an
    unsatisfied rating an escalation counts);
    group: window_hours, min_count (distinct callers), similarity.
    """

    detector = models.CharField(_("检测器"), max_length=16, choices=Detector.choices, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)
    window_hours = models.PositiveIntegerField(_("滑动窗口（小时）"), default=24)
    baseline_days = models.PositiveIntegerField(_("基线天数"), default=28)
    p_value = models.FloatField(_("显著性 p"), default=0.001)
    min_count = models.PositiveIntegerField(_("最少件数/人数"), default=5)
    min_channels = models.PositiveIntegerField(_("最少渠道数"), default=3)
    similarity = models.FloatField(_("文本相似度阈值"), default=0.5)
    notify_leaders = models.BooleanField(_("通知责任单位负责人"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = ["detector"]

    def __str__(self) -> str:
        return self.get_detector_display()


class AlertQuerySet(VisibleQuerySet):
    unit_field = "unit"

    def open(self):
        return self.filter(state__in=OPEN_STATES)


class Alert(models.Model):
    """One warning about one matter (detector + key). At most one open alert per detector and key:
    later evidence about the same matter updates it instead of raising another."""

    detector = models.CharField(_("检测器"), max_length=16, choices=Detector.choices)
    # What the matter is, per detector: "place|category id" (surge), the caller's keyed phone
    # hash (caller), the place (group). Never a phone number.
    key = models.CharField(max_length=200)
    state = models.CharField(_("状态"), max_length=10, choices=AlertState.choices, default=AlertState.NEW)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.TextField(_("依据"), blank=True)
    place = models.CharField(_("地点"), max_length=100, blank=True)
    category = models.ForeignKey(
        "intake.Category", verbose_name=_("分类"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The responsible unit (the unit most of the evidence is with): its leaders are told and see it.
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("责任单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    observed = models.PositiveIntegerField(_("观测数"), default=0)
    expected = models.FloatField(_("基线期望"), null=True, blank=True)
    threshold = models.PositiveIntegerField(_("预警阈值"), null=True, blank=True)
    appeals = models.ManyToManyField("intake.Appeal", through="AlertEvidence", related_name="+")
    is_listed = models.BooleanField(_("挂牌督办"), default=False)
    handled_note = models.TextField(_("处置说明"), blank=True)
    raised_at = models.DateTimeField(_("预警时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("最后更新"), default=timezone.now)

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["detector", "key"], condition=Q(state__in=["new", "seen"]), name="alert_one_open_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["state", "raised_at"], name="alert_state_idx"),
            models.Index(fields=["unit", "raised_at"], name="alert_unit_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def state_choice(self) -> AlertState:
        return AlertState(self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AlertEvidence(models.Model):
    """An appeal that made (or later confirmed) an alert."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evidence")
    appeal = models.ForeignKey("intake.Appeal", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "appeal"], name="alert_evidence_unique")]


class AlertEvent(TimelineEvent):
    """One row of an alert's timeline: raised, more evidence, seen, handled, listed (the alert's
    state before and after a move in ``from_status``/``to_status``)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=32, choices=EventAction.choices)

    class Meta(TimelineEvent.Meta):
        pass


class PlaceDayCount(models.Model):
    """How many appeals one local day brought about one place and category: the surge baseline.

    Written only by ``alerts.baseline.count_day`` (a whole day at a time, from that day's appeals),
    so the surge detector reads a few dozen of these rows per candidate instead of four weeks of
    appeals. ``category_id`` is a plain column (None: not yet classified), as in the analytics rows.
    """

    day = models.DateField()
    place = models.CharField(max_length=100)
    category_id = models.BigIntegerField(null=True, blank=True)
    appeals = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("地点日诉求数")
        verbose_name_plural = _("地点日诉求数")
        constraints = [
            models.UniqueConstraint(
                fields=["place", "category_id", "day"], nulls_distinct=False, name="place_day_count_once"
            )
        ]
        indexes = [models.Index(fields=["day"], name="place_day_count_day")]


class CountedDay(models.Model):
    """A local day whose place counts are in ``PlaceDayCount``.

    ``version`` is bumped (by the appeal receivers in ``alerts.signals``) whenever an appeal of that
    day is added, moved, merged or re-classified after the day was counted; the day is counted again
    when ``counted_version`` no longer equals it. A change committed while the day is being counted
    bumps the version after the counter read it, so it is never lost.
    """

    day = models.DateField(unique=True)
    version = models.PositiveIntegerField(default=0)
    counted_version = models.IntegerField(default=-1)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("已统计日")
        verbose_name_plural = _("已统计日")

    @property
    def is_stale(self) -> bool:
        return self.counted_version != self.version
