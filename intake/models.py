"""Appeals from every channel, their categories and their timeline."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.visibility import VisibleQuerySet

from .choices import AppealStatus, Channel, Kind, Severity
from .phones import EncryptedPhoneField

# No 0/O, 1/I/L: citizens read the code over the phone.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))


class Category(models.Model):
    """A node of the admin-editable category tree (traffic, household registration, …)."""

    code = models.CharField(_("分类代码"), max_length=32, unique=True)
    name = models.CharField(_("分类名称"), max_length=60)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    default_severity = models.CharField(_("默认分级"), max_length=8, choices=Severity.choices, default=Severity.BLUE)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class AppealQuerySet(VisibleQuerySet):
    """Unit users see the appeals dispatched to their unit or below (``unit`` is the lead unit)."""

    unit_field = "unit"

    def open(self) -> AppealQuerySet:
        return self.exclude(status__in=[AppealStatus.CLOSED, AppealStatus.MERGED])


class Appeal(models.Model):
    """One thing a citizen told us, from any channel. Channel + external id identify a re-sent item."""

    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    external_id = models.CharField(_("来源编号"), max_length=64, null=True, blank=True)
    tracking_code = models.CharField(_("查询码"), max_length=12, unique=True, default=new_tracking_code, editable=False)
    kind = models.CharField(_("诉求类型"), max_length=16, choices=Kind.choices, default=Kind.COMPLAINT)
    category = models.ForeignKey(
        Category, verbose_name=_("分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="appeals"
    )
    severity = models.CharField(_("分级"), max_length=8, choices=Severity.choices, default=Severity.BLUE)
    status = models.CharField(_("状态"), max_length=20, choices=AppealStatus.choices, default=AppealStatus.NEW)
    title = models.CharField(_("标题"), max_length=120, blank=True)
    content = models.TextField(_("诉求内容"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    citizen_name = models.CharField(_("诉求人"), max_length=60, blank=True)
    citizen_phone = EncryptedPhoneField(_("联系电话"), blank=True, default="")
    citizen_phone_hash = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    is_enterprise = models.BooleanField(_("涉企"), default=False)
    received_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    unit = models.ForeignKey(
        "units.Unit",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    is_repeat = models.BooleanField(_("重复诉求"), default=False)
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("重复于"), null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("合并至"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    risk_words = models.CharField(_("命中风险词"), max_length=200, blank=True)
    public_reply = models.TextField(_("答复内容"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppealQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="appeal_unique_channel_external_id",
            )
        ]
        indexes = [models.Index(fields=["status", "severity", "received_at"], name="appeal_queue_idx")]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.title or self.content[:20]}"

    @property
    def severity_choice(self) -> Severity:
        return Severity(self.severity)


class AppealEvent(models.Model):
    """One step of an appeal's timeline: who did what, when, from which status to which, and why."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("诉求记录")
        verbose_name_plural = _("诉求记录")
        ordering = ["created_at", "id"]
