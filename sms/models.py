"""The SMS layer's rows: templates, the outbox and its history, the senders' buckets, inbound
messages and the opt-out list.

Every intent is a row first (ARCHITECTURE rule 1): an SMS to send is an ``OutboundSms`` in state
``queued`` with a ``send_after``; Celery only makes it happen sooner, and the sweeper re-drives it.

The tables were created by the surveys app (migrations 0001–0009 there) and moved here without
copying a row: see ``sms/migrations/0001_move_from_surveys.py``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.choices import Channel
from intake.phones import EncryptedPhoneField, mask
from units.visibility import VisibleQuerySet

from .backends import BACKENDS, backend_class
from .choices import AttemptOutcome, InboundOutcome, OptOutSource, SmsProvider, SmsPurpose, SmsStatus
from .texts import render_text, segments_of


class SmsTemplate(models.Model):
    """An admin-editable SMS text: a code, a text with ``{param}`` placeholders, and the longest
    value each parameter may take (``sample_params``), used to prove that it fits one segment."""

    code = models.CharField(_("模板代码"), max_length=40, unique=True)
    name = models.CharField(_("模板名称"), max_length=60)
    text = models.CharField(_("短信内容"), max_length=300)
    sample_params = models.JSONField(_("参数最长示例"), default=dict, blank=True)
    provider_template_id = models.CharField(
        _("服务商模板编号"),
        max_length=60,
        blank=True,
        help_text=_("阿里云、腾讯云等模板短信服务商审核通过的模板编号。"),
    )
    provider = models.CharField(
        _("发送通道"),
        max_length=16,
        choices=SmsProvider.choices,
        blank=True,
        help_text=_("留空则使用系统默认通道（SMS_BACKEND）；仅当此模板须经其他服务商发送时填写。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("短信模板")
        verbose_name_plural = _("短信模板")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        try:
            text = render_text(self.text, self.sample_params)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationError({"text": _("模板参数与示例参数不一致：%(e)s") % {"e": exc}}) from exc
        if segments_of(text) > 1:
            raise ValidationError({"text": _("按最长参数渲染后共%(n)d字，超过一条短信（70字）。") % {"n": len(text)}})
        if self.provider in BACKENDS:
            check = getattr(backend_class(BACKENDS[self.provider]), "validate_params", None)
            if check is not None:
                # The longest values must pass the provider's rules too (length, characters).
                check(text=self.text, params=self.sample_params)


class OutboundSmsQuerySet(VisibleQuerySet):
    """Evaluation SMS belong to the unit of their service record; other SMS to nobody's unit."""

    unit_field = "service_record__unit"


class OutboundSms(models.Model):
    """One SMS to send: the outbox row that is the truth about it.

    queued → sending (claimed by a conditional UPDATE) → sent → delivered / undelivered / failed.
    A row left in ``sending`` by a dead worker or a timeout is reconciled with the provider, never
    re-sent blindly: only after the provider said SMS_RECONCILE_NOT_FOUND_CHECKS times that it does
    not have it is the same row queued again.
    """

    phone = EncryptedPhoneField(_("手机号"))
    # Indexed with the sending time (``sms_reply_match``) and with the purpose below.
    phone_hash = models.CharField(max_length=64, editable=False)
    template_code = models.CharField(_("模板代码"), max_length=40)
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    text = models.CharField(_("短信内容"), max_length=500)
    segments = models.PositiveSmallIntegerField(_("计费条数"), default=1)
    purpose = models.CharField(_("用途"), max_length=24, choices=SmsPurpose.choices, default=SmsPurpose.OTHER)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    # The evaluation this SMS asks for and the rating it follows up: the two links the surveys app
    # needs on the row (one evaluation SMS per record, one follow-up per rating).
    service_record = models.OneToOneField(
        "surveys.ServiceRecord",
        verbose_name=_("业务记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evaluation_sms",
    )
    follow_up_of = models.OneToOneField(
        "surveys.Rating", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_up_sms"
    )
    status = models.CharField(_("状态"), max_length=16, choices=SmsStatus.choices, default=SmsStatus.QUEUED)
    send_after = models.DateTimeField(_("最早发送时间"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    backend = models.CharField(_("发送通道"), max_length=40, blank=True)
    provider_sid = models.CharField(_("服务商消息编号"), max_length=64, null=True, blank=True, unique=True)
    needs_reconciliation = models.BooleanField(_("待核对"), default=False)
    # Asking the provider about an ambiguous send: how often, how often it said "not there", when
    # to ask next (backing off), and when the sweeper gave up and left it to an administrator.
    reconcile_checks = models.PositiveSmallIntegerField(_("核对次数"), default=0)
    reconcile_not_found = models.PositiveSmallIntegerField(_("查无记录次数"), default=0)
    next_reconcile_at = models.DateTimeField(_("下次核对时间"), null=True, blank=True)
    reconcile_parked_at = models.DateTimeField(_("停止自动核对时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("失败时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutboundSmsQuerySet.as_manager()

    class Meta:
        verbose_name = _("外发短信")
        verbose_name_plural = _("外发短信")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "send_after"], condition=Q(status="queued"), name="sms_queued_due_idx"
            ),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="sms_sending_idx"),
            models.Index(fields=["phone_hash", "purpose", "created_at"], name="sms_phone_purpose_idx"),
            # A reply's match: the phone's SMS sent in the reply window, newest first. On the phone
            # alone (or with the purpose) every SMS the number ever got was read and filtered by
            # time: ten times as many at 10M as at 1M.
            models.Index(fields=["phone_hash", "sent_at", "id"], name="sms_reply_match"),
            # The daily figures read a day's evaluation SMS by the time they went out.
            models.Index(fields=["sent_at"], name="sms_sent_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template_code} → {self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)

    @property
    def status_choice(self) -> SmsStatus:
        return SmsStatus(self.status)


class SmsAttempt(models.Model):
    """One call to the provider for one SMS. Written (committed) BEFORE the call, finished after it,
    so that a worker dying mid-call leaves a trace that tells the sweeper not to send again."""

    sms = models.ForeignKey(OutboundSms, on_delete=models.CASCADE, related_name="sms_attempts")
    number = models.PositiveSmallIntegerField(_("第几次"))
    backend = models.CharField(max_length=40)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED)
    provider_sid = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("发送尝试")
        verbose_name_plural = _("发送尝试")
        ordering = ["sms", "number", "id"]


class DeliveryStatusEvent(models.Model):
    """A delivery status reported by the provider. Stored once per (message, status); applied only
    when it moves the SMS forward (callbacks arrive twice and out of order)."""

    sms = models.ForeignKey(OutboundSms, null=True, blank=True, on_delete=models.CASCADE, related_name="status_events")
    provider_sid = models.CharField(max_length=64)
    provider_status = models.CharField(max_length=24)
    status = models.CharField(max_length=16, choices=SmsStatus.choices, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    applied = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("送达回执")
        verbose_name_plural = _("送达回执")
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider_sid", "provider_status"], name="sms_status_event_once")
        ]


class SenderBucket(models.Model):
    """Token bucket of one sender, counting segments. In the database so that losing Redis loses
    nothing; at worst a restart grants one full bucket (a short burst)."""

    sender = models.CharField(max_length=64, unique=True)
    # Negative while the sender loop has reserved sending times ahead (each claimed row is given
    # the moment its segments are paid for), so every worker sees the same schedule.
    tokens = models.FloatField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # The lease of the one sender loop of this sender: another loop started meanwhile exits at once.
    loop_until = models.DateTimeField(null=True, blank=True)
    # The provider calls that still count in the provider's one-second window when a loop ends:
    # [[end of their count as a database-clock Unix time, segments], …], so the next loop (on
    # any host) goes on from the same window instead of an empty one.
    recent_sends = models.JSONField(default=list, blank=True)


class InboundSms(models.Model):
    """A message a citizen sent us. The provider's message id is unique: a replayed webhook
    creates nothing new. Every message is kept, whatever the pipeline made of it."""

    provider = models.CharField(_("通道"), max_length=24)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=64)
    phone = EncryptedPhoneField(_("手机号"))
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    body = models.CharField(_("内容"), max_length=1600)
    received_at = models.DateTimeField(_("收到时间"), default=timezone.now, db_index=True)
    outcome = models.CharField(_("处理结果"), max_length=16, choices=InboundOutcome.choices, blank=True)
    matched_sms = models.ForeignKey(
        OutboundSms,
        verbose_name=_("对应短信"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )

    class Meta:
        verbose_name = _("上行短信")
        verbose_name_plural = _("上行短信")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "provider_message_id"], name="inbound_sms_once")]

    def __str__(self) -> str:
        return f"{self.masked_phone}: {self.body[:20]}"

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)


class OptOut(models.Model):
    """A phone that asked for no more SMS (TD / STOP). Honoured by every run from then on."""

    phone = EncryptedPhoneField(_("手机号"))
    phone_hash = models.CharField(max_length=64, unique=True, editable=False)
    source = models.CharField(_("来源"), max_length=16, choices=OptOutSource.choices, default=OptOutSource.SMS)
    inbound = models.ForeignKey(InboundSms, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("退订时间"), default=timezone.now)

    class Meta:
        verbose_name = _("退订号码")
        verbose_name_plural = _("退订名单")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.masked_phone

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)


class StepNotice(models.Model):
    """Which steps of an appeal its citizen hears about by SMS, for one channel (admin-edited).

    ``platform_informs``: the source platform (12345, 12389) tells its citizens itself; no step
    SMS goes out for appeals of that channel, whatever the step switches say.
    """

    channel = models.CharField(_("渠道"), max_length=32, choices=Channel.choices, unique=True)
    receipt = models.BooleanField(_("受理短信（含查询码）"), default=False)
    dispatch = models.BooleanField(_("转办短信"), default=True)
    extension = models.BooleanField(_("延期短信（含新时限）"), default=True)
    closure = models.BooleanField(_("办结短信"), default=True)
    platform_informs = models.BooleanField(
        _("由来源平台告知群众"), default=False, help_text=_("勾选后，本渠道的诉求不发送任何环节短信。")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("环节告知短信设置")
        verbose_name_plural = _("环节告知短信设置")
        ordering = ["channel"]

    def __str__(self) -> str:
        return self.get_channel_display()

    def sends(self, step: str) -> bool:
        return not self.platform_informs and bool(getattr(self, step))
