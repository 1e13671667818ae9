"""Choices of the work-order app. Badge colours live with the choices that carry them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkOrderStatus(models.TextChoices):
    """Where a work order stands in SPEC §5's closed loop."""

    DISPATCHED = "dispatched", _("待签收")
    SIGNED = "signed", _("已签收")
    IN_PROGRESS = "in_progress", _("办理中")
    FEEDBACK_SUBMITTED = "feedback_submitted", _("待审核")
    RETURNED = "returned", _("退回重办")
    APPROVED = "approved", _("审核通过")
    CLOSED = "closed", _("已办结")
    HANDED_BACK = "handed_back", _("已退单")

    @property
    def css(self) -> str:
        return {
            "dispatched": "state-warn",
            "signed": "state",
            "in_progress": "state",
            "feedback_submitted": "state-warn",
            "returned": "state-err",
            "approved": "state-ok",
            "closed": "state-ok",
            "handed_back": "state",
        }[self.value]


# Orders the unit still has to work on: the deadline clock runs and urging applies.
WITH_UNIT = frozenset(
    {WorkOrderStatus.DISPATCHED, WorkOrderStatus.SIGNED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.RETURNED}
)
# Orders that are not finished (not closed and not handed back).
OPEN_STATUSES = frozenset(WITH_UNIT | {WorkOrderStatus.FEEDBACK_SUBMITTED, WorkOrderStatus.APPROVED})


class Action(models.TextChoices):
    """What a timeline row records: every move, plus the non-moving facts (urged, listed…)."""

    DISPATCH = "dispatch", _("派单")
    SIGN = "sign", _("签收")
    START = "start", _("开始办理")
    SUBMIT_FEEDBACK = "submit_feedback", _("提交办结反馈")
    APPROVE = "approve", _("审核通过")
    RETURN = "return", _("退回重办")
    HAND_BACK = "hand_back", _("退单")
    SUB_DISPATCH = "sub_dispatch", _("转派下级")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    APPROVE_EXTENSION = "approve_extension", _("同意延期")
    REFUSE_EXTENSION = "refuse_extension", _("不同意延期")
    CLOSE = "close", _("办结")
    REOPEN = "reopen", _("重新办理")
    URGE = "urge", _("催办")
    RECOMPUTE = "recompute", _("时限重算")
    OVERDUE = "overdue", _("超期")
    LIST = "list", _("挂牌督办")
    UNLIST = "unlist", _("撤销挂牌")
    CONSULT = "consult", _("联合会商")
    NOTIFY_CITIZEN = "notify_citizen", _("通知群众")
    RESULT_SENT = "result_sent", _("回传结果")


class ExtensionState(models.TextChoices):
    NONE = "", _("无")
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已同意")
    REFUSED = "refused", _("未同意")


class FeedbackResult(models.TextChoices):
    RESOLVED = "resolved", _("已解决")
    PARTLY = "partly", _("部分解决")
    EXPLAINED = "explained", _("已解释说明")
    UNRESOLVABLE = "unresolvable", _("无法解决")


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("电话联系")
    VISIT = "visit", _("当面联系")
    SMS = "sms", _("短信联系")
    NONE = "none", _("未能联系")


class RuleKind(models.TextChoices):
    """Kinds of jurisdiction rule: a place matched in the appeal's address."""

    KEYWORD = "keyword", _("地址关键词")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")


class SupervisionKind(models.TextChoices):
    REPEAT = "repeat", _("重复诉求")
    LONG_UNRESOLVED = "long_unresolved", _("久拖未决")
    GROUP = "group", _("群体诉求")


class CalendarSource(models.TextChoices):
    SEEDED = "seeded", _("chinese-calendar 导入")
    ADMIN = "admin", _("管理员录入")


class UrgeStage(models.IntegerChoices):
    """Reminders already sent for the current deadline: at 50 %, at 80 %, at the deadline."""

    NONE = 0, _("未催办")
    HALF = 1, _("时限过半")
    EIGHTY = 2, _("时限80%")
    DUE = 3, _("已到期")
