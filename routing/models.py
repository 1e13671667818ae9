"""The learned routing proposal: trained models (versioned artefacts), what each dispatch followed,
and the administrator's auto-dispatch settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TrainingStatus(models.TextChoices):
    ACTIVE = "active", _("在用")
    RETIRED = "retired", _("已替换")
    REJECTED = "rejected", _("未采用（不优于在用模型）")
    FAILED = "failed", _("训练失败")

    @property
    def css(self) -> str:
        return {"active": "state-ok", "retired": "state", "rejected": "state-warn", "failed": "state-err"}[self.value]


class TrainedModel(models.Model):
    """One training run and, when it succeeded, its artefact.

    The artefact is an ``np.savez`` archive of plain numeric arrays (the IDF weights and each
    linear model's coefficients, intercepts and class ids) written by ``routing.training``; it is
    read back with ``np.load(allow_pickle=False)`` after its SHA-256 digest is checked, so loading
    never unpickles anything. The vectorizer is stateless (hashing) and rebuilt from ``params``.
    Exactly one row is ACTIVE at a time (partial unique constraint).
    """

    version = models.PositiveIntegerField(_("版本"), unique=True)
    status = models.CharField(_("状态"), max_length=10, choices=TrainingStatus.choices)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    test_from = models.DateTimeField(_("测试月起"), null=True, blank=True)
    train_rows = models.PositiveIntegerField(_("训练样本"), default=0)
    test_rows = models.PositiveIntegerField(_("测试样本"), default=0)
    unit_top1 = models.FloatField(_("单位 top-1"), null=True, blank=True)
    unit_top3 = models.FloatField(_("单位 top-3"), null=True, blank=True)
    category_top1 = models.FloatField(_("分类 top-1"), null=True, blank=True)
    category_top3 = models.FloatField(_("分类 top-3"), null=True, blank=True)
    rules_unit_top1 = models.FloatField(_("规则 单位准确率"), null=True, blank=True)
    rules_coverage = models.FloatField(_("规则 覆盖率"), null=True, blank=True)
    previous_unit_top1 = models.FloatField(_("在用模型同月 top-1"), null=True, blank=True)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    artefact = models.BinaryField(_("模型文件"), null=True, blank=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("派单模型")
        verbose_name_plural = _("派单模型")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"), name="routing_one_active_model"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.get_status_display()})"

    @property
    def status_choice(self) -> TrainingStatus:
        return TrainingStatus(self.status)


class Followed(models.TextChoices):
    BOTH = "both", _("模型与规则一致")
    MODEL = "model", _("采纳模型建议")
    RULE = "rule", _("采纳规则建议")
    NEITHER = "neither", _("另选单位")


class DispatchChoice(models.Model):
    """What a dispatch chose against what the model and the rules proposed: the acceptance rate."""

    order = models.OneToOneField("workorders.WorkOrder", on_delete=models.CASCADE, related_name="routing_choice")
    appeal = models.ForeignKey("intake.Appeal", on_delete=models.CASCADE, related_name="+")
    chosen_unit = models.ForeignKey("units.Unit", on_delete=models.CASCADE, related_name="+")
    model_unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model_confidence = models.FloatField(null=True, blank=True)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    rule_unit = models.ForeignKey("units.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    followed = models.CharField(_("采纳"), max_length=8, choices=Followed.choices)
    automatic = models.BooleanField(_("自动派单"), default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("派单采纳记录")
        verbose_name_plural = _("派单采纳记录")


class AutoDispatchSetting(models.Model):
    """Auto-dispatch for one category. Off unless
    an administrator turns it on; then appeals waiting for dispatch whose model confidence reaches
    ``threshold`` are dispatched by the system."""

    category = models.OneToOneField(
        "intake.Category", on_delete=models.CASCADE, related_name="+", verbose_name=_("分类")
    )
    is_enabled = models.BooleanField(_("启用自动派单"), default=False)
    threshold = models.FloatField(_("置信度阈值"), default=0.95)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自动派单设置")
        verbose_name_plural = _("自动派单设置")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold__gte=0.5, threshold__lte=1.0), name="routing_threshold_range"
            ),
        ]

    def __str__(self) -> str:
        return str(self.category)


class HandbackMonth(models.Model):
    """退单率 of one local month of dispatch, kept as the facts happen: every work order dispatched
    that month and how many of them were handed back (at least once). Added to by the receivers in
    ``routing.signals`` in the dispatch's or hand-back's transaction; ``rebuild_handback_months``
    recounts months set-wise for rows written in bulk (history generator, imports) and nightly."""

    month = models.DateField(_("月份"), unique=True)  # the first day of the month
    dispatched = models.PositiveIntegerField(_("派单"), default=0)
    handed_back = models.PositiveIntegerField(_("退单"), default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("月度退单数")
        verbose_name_plural = _("月度退单数")
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
