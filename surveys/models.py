"""Service records, the daily evaluation run, the SMS outbox and its history, replies, ratings,
opt-outs and the callback desk.

Every intent is a row first (ARCHITECTURE rule 1): an SMS to send is an ``OutboundSms`` in state
``queued`` with a ``send_after``; Celery only makes it happen sooner, and the sweeper re-drives it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.phones import EncryptedPhoneField, mask
from sms.choices import InboundOutcome
from sms.models import InboundSms, OutboundSms, SmsTemplate
from units.models import TimelineEvent
from units.visibility import VisibleQuerySet

from .choices import (
    Aspect,
    CallbackStatus,
    CallbackVerdict,
    CallOutcome,
    QuestionKind,
    RatingPointKind,
    RatingSource,
    RecordState,
    ReviewStatus,
    SampleSource,
    SkipReason,
    SurveyKind,
    SurveyStatus,
    Verdict,
)


class BusinessType(models.Model):
    """A police business whose citizens are asked to rate it (110 dispatch, 122 accident, …)."""

    code = models.CharField(_("业务代码"), max_length=32, unique=True)
    name = models.CharField(_("业务名称"), max_length=60)
    template = models.ForeignKey(
        SmsTemplate, verbose_name=_("回访短信模板"), on_delete=models.PROTECT, related_name="business_types"
    )
    is_evaluated = models.BooleanField(_("是否回访"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("业务类型")
        verbose_name_plural = _("业务类型")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class EvaluationRun(models.Model):
    """One daily evaluation run, unique per service date: running it twice creates nothing new."""

    service_date = models.DateField(_("业务日期"), unique=True)
    delay_days = models.PositiveSmallIntegerField(_("延后天数"))
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    records = models.PositiveIntegerField(_("业务记录数"), default=0)
    queued = models.PositiveIntegerField(_("安排短信数"), default=0)
    skipped = models.PositiveIntegerField(_("不发送数"), default=0)
    skipped_reasons = models.JSONField(_("不发送原因"), default=dict, blank=True)
    send_after = models.DateTimeField(_("最早发送时间"), null=True, blank=True)
    window_warning = models.CharField(_("发送窗口提示"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("回访批次")
        verbose_name_plural = _("回访批次")
        ordering = ["-service_date"]

    def __str__(self) -> str:
        return str(self.service_date)

    @property
    def skipped_reason_labels(self) -> list[tuple[str, int]]:
        labels = dict(SkipReason.choices)
        return [(labels.get(code, code), n) for code, n in (self.skipped_reasons or {}).items()]


class ServiceRecordQuerySet(VisibleQuerySet):
    unit_field = "unit"


class ServiceRecord(models.Model):
    """One service a citizen received, pushed or imported from a police business system."""

    external_id = models.CharField(_("业务编号"), max_length=64, unique=True)
    business_type = models.ForeignKey(
        BusinessType, verbose_name=_("业务类型"), on_delete=models.PROTECT, related_name="records"
    )
    served_at = models.DateTimeField(_("办理时间"), db_index=True)
    unit = models.ForeignKey("units.Unit", verbose_name=_("办理单位"), on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理民警"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    officer_code = models.CharField(_("警号"), max_length=20, blank=True)
    citizen_phone = EncryptedPhoneField(_("群众电话"))
    citizen_phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    source = models.CharField(_("来源"), max_length=32, default="api")
    # Not indexed: nothing looks records up by batch, and millions of rows pay for an index on
    # every insert (ARCHITECTURE rule 15).
    import_batch = models.ForeignKey(
        "feeds.ImportBatch",
        verbose_name=_("导入批次"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    state = models.CharField(_("回访状态"), max_length=16, choices=RecordState.choices, default=RecordState.PENDING)
    skip_reason = models.CharField(_("不发送原因"), max_length=24, choices=SkipReason.choices, blank=True)
    run = models.ForeignKey(
        EvaluationRun, verbose_name=_("回访批次"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("业务记录")
        verbose_name_plural = _("业务记录")
        ordering = ["-served_at", "-id"]
        # The service-record list filtered by state, newest first (its page and its bounded count).
        indexes = [models.Index(fields=["state", "served_at", "id"], name="record_state_served_idx")]

    def __str__(self) -> str:
        return self.external_id

    @property
    def masked_phone(self) -> str:
        return mask(self.citizen_phone)


class RatingPointQuerySet(VisibleQuerySet):
    unit_field = "unit"


class RatingPoint(models.Model):
    """A place a citizen can rate by scanning a QR code: a service window, a station, an officer's
    badge. The QR link carries the point id and ``token_version`` signed with the secret key;
    raising the version (rotating) makes every printed sticker of the point invalid."""

    unit = models.ForeignKey("units.Unit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=16, choices=RatingPointKind.choices, default=RatingPointKind.WINDOW)
    name = models.CharField(_("名称"), max_length=60, help_text=_("如“户籍窗口”“3号窗口”“民警张伟”。"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("民警"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    officer_code = models.CharField(_("警号"), max_length=20, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    token_version = models.PositiveIntegerField(_("二维码版本"), default=1, editable=False)
    rotated_at = models.DateTimeField(_("二维码更换时间"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RatingPointQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价点")
        verbose_name_plural = _("评价点")
        ordering = ["unit__path", "kind", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="rating_point_unit_name_unique")]

    def __str__(self) -> str:
        return f"{self.unit.name} · {self.name}"

    @property
    def kind_choice(self) -> RatingPointKind:
        return RatingPointKind(self.kind)


class RatingQuerySet(VisibleQuerySet):
    unit_field = "unit"


class Rating(models.Model):
    """A citizen's verdict on one service: at most one per evaluation SMS."""

    sms = models.OneToOneField(
        OutboundSms, verbose_name=_("评价短信"), null=True, blank=True, on_delete=models.PROTECT, related_name="rating"
    )
    service_record = models.ForeignKey(
        ServiceRecord,
        verbose_name=_("业务记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    appeal = models.ForeignKey(
        "intake.Appeal", verbose_name=_("诉求"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("被评价单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    business_type = models.ForeignKey(
        BusinessType, verbose_name=_("业务类型"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(_("评价"), max_length=16, choices=Verdict.choices)
    text = models.CharField(_("评价内容"), max_length=500, blank=True)
    aspect = models.CharField(_("不满意方面"), max_length=16, choices=Aspect.choices, blank=True)
    aspect_text = models.CharField(_("原因回复"), max_length=500, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=RatingSource.choices, default=RatingSource.SMS)
    inbound = models.ForeignKey(InboundSms, null=True, blank=True, on_delete=models.SET_NULL, related_name="ratings")
    phone_hash = models.CharField(max_length=64, db_index=True, blank=True, editable=False)
    rated_at = models.DateTimeField(_("评价时间"), default=timezone.now, db_index=True)
    # QR ratings (source "qr"): the point scanned, the tags ticked, the phone the citizen chose to
    # leave (encrypted; the hash above is what is looked up), and a keyed hash of the device
    # cookie, by which a second rating from the same phone browser folds into the first.
    rating_point = models.ForeignKey(
        RatingPoint, verbose_name=_("评价点"), null=True, blank=True, on_delete=models.PROTECT, related_name="ratings"
    )
    tags = models.JSONField(_("评价标签"), default=list, blank=True)
    phone = EncryptedPhoneField(_("联系电话"), blank=True, default="")
    device_hash = models.CharField(max_length=64, blank=True, editable=False)
    folds = models.PositiveSmallIntegerField(_("合并次数"), default=0)
    updated_at = models.DateTimeField(_("最后修改"), null=True, blank=True)
    rectification_appeal = models.ForeignKey(
        "intake.Appeal", verbose_name=_("整改诉求"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rectification_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("整改工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RatingQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-rated_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "rated_at"], name="rating_unit_time_idx"),
            models.Index(
                fields=["rating_point", "device_hash", "rated_at"],
                condition=Q(source="qr"),
                name="rating_qr_fold_idx",
            ),
            models.Index(
                fields=["rated_at"],
                condition=Q(source="qr", verdict="dissatisfied", rectification_appeal__isnull=True),
                name="rating_qr_unrectified_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.get_verdict_display()

    @property
    def verdict_choice(self) -> Verdict:
        return Verdict(self.verdict)

    @property
    def tag_labels(self) -> list[str]:
        from .choices import QrTag

        labels = dict(QrTag.choices)
        return [str(labels.get(t, t)) for t in self.tags or []]


class ReviewItem(models.Model):
    """A reply the pipeline could not read (or a second verdict), kept for staff to read."""

    inbound = models.OneToOneField(InboundSms, on_delete=models.CASCADE, related_name="review")
    reason = models.CharField(_("原因"), max_length=16, choices=InboundOutcome.choices)
    status = models.CharField(_("状态"), max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    note = models.CharField(_("处理说明"), max_length=300, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("待查看回复")
        verbose_name_plural = _("待查看回复")
        ordering = ["-created_at", "-id"]


class CallbackQuerySet(VisibleQuerySet):
    unit_field = "unit"

    def open(self) -> CallbackQuerySet:
        return self.exclude(status=CallbackStatus.CLOSED)


class Callback(models.Model):
    """人工回访: a staff phone call to a citizen who said he was dissatisfied, due by ``due_at``."""

    rating = models.OneToOneField(Rating, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="callback")
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("被评价单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=CallbackStatus.choices, default=CallbackStatus.PENDING)
    due_at = models.DateTimeField(_("回访时限"))
    attempts = models.PositiveSmallIntegerField(_("拨打次数"), default=0)
    unreached = models.PositiveSmallIntegerField(_("未接通次数"), default=0)
    reason = models.TextField(_("不满意原因"), blank=True)
    is_reasonable = models.BooleanField(_("诉求合理"), null=True, blank=True)
    verdict = models.CharField(_("回访结论"), max_length=16, choices=CallbackVerdict.choices, blank=True)
    rectification_appeal = models.ForeignKey(
        "intake.Appeal", verbose_name=_("整改诉求"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rectification_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("整改工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CallbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("人工回访")
        verbose_name_plural = _("人工回访")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at", "id"], condition=~Q(status="closed"), name="callback_open_due_idx"),
            # Lists of every status (the API without a status filter) page in this order too.
            models.Index(fields=["due_at", "id"], name="callback_due_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def status_choice(self) -> CallbackStatus:
        return CallbackStatus(self.status)

    @property
    def is_overdue(self) -> bool:
        return self.status != CallbackStatus.CLOSED and self.due_at < timezone.now()


class CallbackAttempt(models.Model):
    """One phone call of a callback: who called, whether the citizen answered, what he said."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="calls")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(_("拨打结果"), max_length=16, choices=CallOutcome.choices)
    note = models.CharField(_("通话记录"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("回访通话")
        verbose_name_plural = _("回访通话")
        ordering = ["created_at", "id"]


CALLBACK_ACTIONS = {
    "created": _("生成回访任务"),
    "call": _("登记通话"),
    "rectify": _("派发整改工单"),
    "close": _("结案"),
    "reveal_phone": _("查看完整号码"),
    "aspect": _("补充不满意方面"),
}


class CallbackEvent(TimelineEvent):
    """One step of a callback's timeline: who, when, from which status to which, and why."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="events")

    ACTION_LABELS = CALLBACK_ACTIONS

    class Meta(TimelineEvent.Meta):
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")


# --- sampling surveys (民调) -----------------------------------------------------------------


class SurveyQuerySet(models.QuerySet):
    """Surveys belong to the center: center staff, supervisors and administrators see them."""

    def visible_to(self, user) -> SurveyQuerySet:
        if getattr(user, "is_authenticated", False) and user.sees_all_units:
            return self.all()
        return self.none()


class Survey(models.Model):
    """A periodic questionnaire sent by SMS to a random sample of phones (service records of a
    period, registered enterprise contacts, or an uploaded list), answered on the mobile form."""

    title = models.CharField(_("调查名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=SurveyKind.choices, default=SurveyKind.PUBLIC)
    intro = models.CharField(_("开场说明"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    sample_source = models.CharField(_("样本来源"), max_length=16, choices=SampleSource.choices, blank=True)
    sample_from = models.DateField(_("样本期间起"), null=True, blank=True)
    sample_to = models.DateField(_("样本期间止"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    opened_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("民意调查")
        verbose_name_plural = _("民意调查")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def status_choice(self) -> SurveyStatus:
        return SurveyStatus(self.status)


class SurveyQuestion(models.Model):
    """One question: single choice (``options``), a 1–5 scale, or free text."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("序号"), default=0)
    kind = models.CharField(_("题型"), max_length=8, choices=QuestionKind.choices, default=QuestionKind.SINGLE)
    text = models.CharField(_("题目"), max_length=200)
    options = models.JSONField(_("选项"), default=list, blank=True)
    required = models.BooleanField(_("必答"), default=True)

    class Meta:
        verbose_name = _("调查题目")
        verbose_name_plural = _("调查题目")
        ordering = ["survey", "position", "id"]

    def __str__(self) -> str:
        return self.text

    @property
    def choices(self) -> list[str]:
        if self.kind == QuestionKind.SCALE:
            return ["5", "4", "3", "2", "1"]
        return [str(o) for o in self.options or []]


class SurveyInvitation(models.Model):
    """One phone drawn into a survey's sample, with its personal link token (one response)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    phone = EncryptedPhoneField(_("手机号"))
    phone_hash = models.CharField(max_length=64, editable=False)
    token = models.CharField(max_length=32, unique=True, editable=False)
    source = models.CharField(_("来源"), max_length=16, choices=SampleSource.choices)
    sms = models.OneToOneField(
        OutboundSms, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitation"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("调查样本")
        verbose_name_plural = _("调查样本")
        ordering = ["survey", "id"]
        constraints = [models.UniqueConstraint(fields=["survey", "phone_hash"], name="survey_invitation_once")]

    def __str__(self) -> str:
        return f"{self.survey_id}:{self.masked_phone}"

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)


class SurveyResponse(models.Model):
    """The answers of one invitation: ``{question id: value}``. One per invitation; a second
    submission replaces the answers (``submissions`` counts them)."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="response")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    answers = models.JSONField(_("答案"), default=dict)
    submissions = models.PositiveSmallIntegerField(default=1)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("最后修改"), default=timezone.now)

    class Meta:
        verbose_name = _("调查答卷")
        verbose_name_plural = _("调查答卷")
        ordering = ["-submitted_at", "-id"]


SURVEY_ACTIONS = {"create": _("创建"), "sample": _("抽取样本"), "open": _("发送邀请短信"), "close": _("结束调查")}


class SurveyEvent(TimelineEvent):
    """One step of a survey's life: who, when, from which status to which, and what."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="events")

    ACTION_LABELS = SURVEY_ACTIONS

    class Meta(TimelineEvent.Meta):
        verbose_name = _("调查记录")
        verbose_name_plural = _("调查记录")
