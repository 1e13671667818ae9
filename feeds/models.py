"""External platforms that feed us (12345, 12389, message boards, business systems), their bulk
imports with row reports, and the results we send back to them."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.choices import Channel

from .choices import BatchStatus, DeliveryStatus, FeedKind

KEY_PREFIX_LENGTH = 8


def hash_key(key: str) -> str:
    """The stored form of a source key. Keys are long random strings, so a plain SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


class FeedSource(models.Model):
    """A platform allowed to push to us, with its own key (stored only as a hash).

    ``hmac_secret``, when set, makes every push carry ``X-Signature: sha256=<hex>`` over its raw body.
    ``result_url``/``result_secret`` say where and how the results of closed appeals go back.
    """

    code = models.SlugField(_("来源代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("数据类型"), max_length=20, choices=FeedKind.choices, default=FeedKind.APPEALS)
    channel = models.CharField(
        _("对应渠道"),
        max_length=20,
        choices=Channel.choices,
        blank=True,
        help_text=_("诉求类来源创建的诉求记入该渠道。"),
    )
    key_prefix = models.CharField(_("密钥前缀"), max_length=KEY_PREFIX_LENGTH, blank=True, editable=False)
    key_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    key_created_at = models.DateTimeField(_("密钥生成时间"), null=True, blank=True, editable=False)
    hmac_secret = models.CharField(
        _("推送签名密钥"),
        max_length=128,
        blank=True,
        help_text=_("填写后，推送必须带 X-Signature: sha256=<请求体的HMAC-SHA256>。"),
    )
    require_timestamp = models.BooleanField(
        _("要求时间戳"),
        default=False,
        help_text=_("要求推送带 X-Timestamp 并纳入签名，拒绝过期的重放请求。"),
    )
    result_url = models.URLField(_("结果回传地址"), max_length=300, blank=True)
    result_secret = models.CharField(_("回传签名密钥"), max_length=128, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def set_key(self, key: str) -> None:
        """Store a key (hash and identifying prefix only). The caller shows the key once."""
        self.key_hash = hash_key(key)
        self.key_prefix = key[:KEY_PREFIX_LENGTH]
        self.key_created_at = timezone.now()

    def new_key(self) -> str:
        """Make, store and return a fresh random key; the previous one stops working on save."""
        key = f"{self.code}-{secrets.token_urlsafe(32)}"
        self.set_key(key)
        return key

    @property
    def sends_results(self) -> bool:
        return bool(self.result_url) and self.is_active


def import_upload_path(instance: ImportBatch, filename: str) -> str:
    return f"feeds/imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-{filename[-80:]}"


class ImportBatch(models.Model):
    """One uploaded file being (or having been) imported. The row is the truth about its progress:
    a worker claims it, and a sweeper re-drives batches whose worker died."""

    kind = models.CharField(_("数据类型"), max_length=20, choices=FeedKind.choices)
    source = models.ForeignKey(
        FeedSource, verbose_name=_("来源"), null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    filename = models.CharField(_("文件名"), max_length=200)
    file = models.FileField(_("文件"), upload_to=import_upload_path, max_length=300)
    # One file, one batch: a file is known by the SHA-256 of its content per kind and source.
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # "host:pid" of the process that last claimed the batch. On PostgreSQL that process also holds
    # the batch's advisory lock while it runs: running with the lock free means it died.
    runner = models.CharField(_("执行进程"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    method = models.CharField(_("导入方式"), max_length=10, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    duplicates = models.PositiveIntegerField(_("重复"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝"), default=0)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["queued", "running"]),
                name="feeds_batch_open_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source", "file_sha256"],
                condition=Q(status__in=["queued", "running"]) & ~Q(file_sha256=""),
                name="feeds_batch_one_open_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename}"

    @property
    def status_choice(self) -> BatchStatus:
        return BatchStatus(self.status)

    @property
    def is_open(self) -> bool:
        return self.status in (BatchStatus.QUEUED, BatchStatus.RUNNING)


class ImportRowError(models.Model):
    """One rejected row of a batch: its number in the file (header is row 1), the field and why."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("行号"))
    field = models.CharField(_("字段"), max_length=40, blank=True)
    reason = models.CharField(_("原因"), max_length=300)
    raw = models.JSONField(_("原始数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("导入错误行")
        verbose_name_plural = _("导入错误行")
        ordering = ["batch", "row_number", "id"]
        indexes = [models.Index(fields=["batch", "row_number"], name="feeds_rowerror_batch_idx")]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.reason}"


class ResultDelivery(models.Model):
    """A result to send back to the platform an appeal came from: an outbox row.

    pending → sending (claimed by one worker) → delivered, or back to pending with a later
    ``next_attempt_at``, or failed (refused by the platform) / parked (too many attempts).
    ``uuid`` travels with every attempt so the platform can discard re-sends.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appeal = models.ForeignKey("intake.Appeal", on_delete=models.PROTECT, related_name="result_deliveries")
    source = models.ForeignKey(FeedSource, on_delete=models.PROTECT, related_name="deliveries")
    sequence = models.PositiveSmallIntegerField(_("序号"), default=1)
    payload = models.JSONField(_("回传内容"))
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("结果回传")
        verbose_name_plural = _("结果回传")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["appeal", "sequence"], name="feeds_delivery_once_per_sequence"),
        ]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="feeds_delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source.code} #{self.pk}"

    @property
    def status_choice(self) -> DeliveryStatus:
        return DeliveryStatus(self.status)


class DeliveryAttempt(models.Model):
    """One try to deliver a result: when, what the platform answered, how long it took."""

    delivery = models.ForeignKey(ResultDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField(_("第几次"))
    started_at = models.DateTimeField(_("时间"), default=timezone.now)
    http_status = models.PositiveSmallIntegerField(_("HTTP状态"), null=True, blank=True)
    response_excerpt = models.CharField(_("响应摘要"), max_length=500, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时(毫秒)"), default=0)

    class Meta:
        verbose_name = _("回传尝试")
        verbose_name_plural = _("回传尝试")
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}/{self.number}"

    @property
    def ok(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def new_open311_token() -> str:
    return secrets.token_hex(16)


class Open311Request(models.Model):
    """An appeal posted by an Open311 GeoReport v2 client (``feeds.open311``), and what the spec
    publishes about it beside the appeal itself: where it is (coordinates, the address as posted)
    and the token the client may poll. Only appeals with this row appear in ``requests.json``: the
    citizen filed them on a public platform that publishes them (docs/open311.md).
    """

    appeal = models.OneToOneField(
        "intake.Appeal", verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="open311"
    )
    client = models.ForeignKey(
        FeedSource, verbose_name=_("Open311客户端"), on_delete=models.PROTECT, related_name="open311_requests"
    )
    token = models.CharField(_("令牌"), max_length=32, unique=True, default=new_open311_token, editable=False)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    address_string = models.CharField(_("公开地址"), max_length=200, blank=True)
    address_id = models.CharField(_("地址编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311诉求")
        verbose_name_plural = _("Open311诉求")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.client.code} {self.token}"
