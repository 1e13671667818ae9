"""Choices of the feeds app. Badge classes live with the choices that carry them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeedKind(models.TextChoices):
    """What a source sends us: appeals (12345, 12389, message boards), service records, or appeals
    posted by an Open311 GeoReport v2 client (its key is the client's ``api_key``)."""

    APPEALS = "appeals", _("诉求")
    SERVICE_RECORDS = "service_records", _("业务记录")
    OPEN311 = "open311", _("Open311客户端")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")

    @property
    def css(self) -> str:
        return {"queued": "state", "running": "state-warn", "done": "state-ok", "failed": "state-err"}[self.value]


class DeliveryStatus(models.TextChoices):
    """Life of a result sent back to a platform. Only ``pending`` and ``sending`` are still moving."""

    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("被拒收")
    PARKED = "parked", _("已搁置")

    @property
    def css(self) -> str:
        return {
            "pending": "state",
            "sending": "state-warn",
            "delivered": "state-ok",
            "failed": "state-err",
            "parked": "state-err",
        }[self.value]
