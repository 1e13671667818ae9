"""Choices of the SMS layer. Badge colours live with the choices that carry them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsStatus(models.TextChoices):
    """Life of one outbound SMS. The database row is the truth; statuses only move forward."""

    QUEUED = "queued", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    UNDELIVERED = "undelivered", _("未送达")
    FAILED = "failed", _("发送失败")

    @property
    def rank(self) -> int:
        return {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}[self.value]

    @property
    def css(self) -> str:
        return {
            "queued": "state",
            "sending": "state-warn",
            "sent": "state",
            "delivered": "state-ok",
            "undelivered": "state-err",
            "failed": "state-err",
        }[self.value]


class SmsPurpose(models.TextChoices):
    EVALUATION = "evaluation", _("回访评价")
    FOLLOW_UP = "follow_up", _("不满意原因追问")
    APPEAL_RECEIVED = "appeal_received", _("受理告知")
    APPEAL_DISPATCHED = "appeal_dispatched", _("转办告知")
    APPEAL_EXTENDED = "appeal_extended", _("延期告知")
    APPEAL_CLOSED = "appeal_closed", _("办结告知")
    URGE_REMINDER = "urge_reminder", _("催办提醒")
    SURVEY = "survey", _("民意调查邀请")
    TEST = "test", _("测试短信")
    OTHER = "other", _("其他")


class AttemptOutcome(models.TextChoices):
    STARTED = "started", _("进行中")
    ACCEPTED = "accepted", _("服务商已受理")
    TRANSIENT = "transient", _("临时错误，稍后重试")
    PERMANENT = "permanent", _("永久错误")
    AMBIGUOUS = "ambiguous", _("结果不明，待核对")


class InboundOutcome(models.TextChoices):
    """What the reply pipeline made of an inbound SMS. Nothing a citizen sent is dropped."""

    RATING = "rating", _("已记录评价")
    FOLLOW_UP = "follow_up", _("已记录不满意原因")
    OPT_OUT = "opt_out", _("已退订")
    ALREADY_RATED = "already_rated", _("重复评价，已转人工")
    UNCLEAR = "unclear", _("无法识别，已转人工")
    UNMATCHED = "unmatched", _("无对应短信，已保存")


class OptOutSource(models.TextChoices):
    SMS = "sms", _("短信退订")
    STAFF = "staff", _("工作人员登记")
    PROVIDER = "provider", _("服务商黑名单")


class SmsProvider(models.TextChoices):
    """Where a template is sent; blank on a template means the deployment's ``SMS_BACKEND``."""

    OUTBOX = "outbox", _("站内模拟（不外发）")
    TWILIO = "twilio", _("Twilio")
    ALIYUN = "aliyun", _("阿里云短信")
    TENCENT = "tencent", _("腾讯云短信")


class NoticeStep(models.TextChoices):
    """The steps of an appeal a citizen hears about by SMS (switchable per channel)."""

    RECEIPT = "receipt", _("受理")
    DISPATCH = "dispatch", _("转办")
    EXTENSION = "extension", _("延期")
    CLOSURE = "closure", _("办结")
