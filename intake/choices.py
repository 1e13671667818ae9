"""Choices of the intake app. Badge colours live with the choices that carry them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("民意热线")
    MAYOR_MAILBOX = "mayor_mailbox", _("市长信箱")
    DIRECTOR_MAILBOX = "director_mailbox", _("局长信箱")
    FEED_12345 = "12345", _("12345政务服务热线")
    FEED_12389 = "12389", _("12389举报热线")
    MESSAGE_BOARD = "message_board", _("网上留言板")
    QR_RATING = "qr_rating", _("扫码评警")
    SMS_REPLY = "sms_reply", _("短信回复")
    CALLBACK = "callback", _("人工回访")
    ENTERPRISE = "enterprise", _("便企热线")


class Kind(models.TextChoices):
    COMPLAINT = "complaint", _("投诉")
    HELP = "help", _("求助")
    SUGGESTION = "suggestion", _("建议")
    CONSULTATION = "consultation", _("咨询")
    PRAISE = "praise", _("表扬")
    CLUE = "clue", _("线索举报")


class Severity(models.TextChoices):
    """四色分级. ``rank`` orders the queue (most severe first); ``css`` is the badge class."""

    RED = "red", _("红色")
    ORANGE = "orange", _("橙色")
    YELLOW = "yellow", _("黄色")
    BLUE = "blue", _("蓝色")

    @property
    def rank(self) -> int:
        return {"red": 0, "orange": 1, "yellow": 2, "blue": 3}[self.value]

    @property
    def css(self) -> str:
        return f"sev-{self.value}"

    @property
    def colour(self) -> str:
        return {"red": "#d32f2f", "orange": "#f57c00", "yellow": "#f9c400", "blue": "#1e88e5"}[self.value]


class AppealStatus(models.TextChoices):
    NEW = "new", _("待研判")
    PENDING_DISPATCH = "pending_dispatch", _("待派单")
    DISPATCHED = "dispatched", _("办理中")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已合并")


class RevealedObject(models.TextChoices):
    """What a phone reveal showed the number of (the central reveal log spans apps)."""

    APPEAL = "appeal", _("诉求")
    CALLBACK = "callback", _("人工回访")
