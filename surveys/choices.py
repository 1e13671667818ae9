"""Choices of the surveys app. Badge colours live with the choices that carry them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordState(models.TextChoices):
    """Where a service record stands in the evaluation run."""

    PENDING = "pending", _("待回访")
    QUEUED = "queued", _("已安排短信")
    SKIPPED = "skipped", _("不发送")


class SkipReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("号码已退订")
    RECENTLY_CONTACTED = "recently_contacted", _("近期已发送过短信")
    NOT_EVALUATED = "not_evaluated", _("业务类型不回访")
    NO_PHONE = "no_phone", _("无有效手机号")


class Verdict(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    DECLINED = "declined", _("不评价")

    @property
    def css(self) -> str:
        return {
            "satisfied": "state-ok",
            "basic": "sev-blue",
            "dissatisfied": "state-err",
            "declined": "state",
        }[self.value]


class Aspect(models.TextChoices):
    """What fell short, asked by the optional follow-up SMS (digits 1–4 in that SMS)."""

    SPEED = "speed", _("响应速度")
    ATTITUDE = "attitude", _("服务态度")
    OUTCOME = "outcome", _("办理结果")
    FAIRNESS = "fairness", _("公正廉洁")


class RatingSource(models.TextChoices):
    SMS = "sms", _("短信回复")
    CALLBACK = "callback", _("人工回访")
    QR = "qr", _("扫码评价")


class RatingPointKind(models.TextChoices):
    """What a QR code hangs on: a service window, a whole station, or an officer's badge."""

    WINDOW = "window", _("服务窗口")
    STATION = "station", _("单位")
    BADGE = "badge", _("民警警号牌")


class QrTag(models.TextChoices):
    """Optional tags on the QR rating form; ``is_negative`` ones go with a bad review."""

    ATTITUDE_GOOD = "attitude_good", _("态度好")
    EFFICIENT = "efficient", _("效率高")
    PROFESSIONAL = "professional", _("业务熟练")
    PATIENT = "patient", _("解释耐心")
    CLEAN = "clean", _("环境整洁")
    ATTITUDE_BAD = "attitude_bad", _("态度差")
    SLOW = "slow", _("办事慢")
    RUNAROUND = "runaround", _("多次跑腿")
    UNCLEAR = "unclear", _("解释不清")
    UNFAIR = "unfair", _("办事不公")

    @property
    def is_negative(self) -> bool:
        return self.value in {"attitude_bad", "slow", "runaround", "unclear", "unfair"}


# The verdicts a citizen can give on the QR form (declining is simply not submitting).
QR_VERDICTS = ("satisfied", "basic", "dissatisfied")


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("待查看")
    DONE = "done", _("已处理")


class CallbackStatus(models.TextChoices):
    PENDING = "pending", _("待回访")
    REACHED = "reached", _("已联系")
    CLOSED = "closed", _("已结案")

    @property
    def css(self) -> str:
        return {"pending": "state-warn", "reached": "state", "closed": "state-ok"}[self.value]


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("已接通")
    NO_ANSWER = "no_answer", _("无人接听")
    REFUSED = "refused", _("拒绝沟通")


class CallbackVerdict(models.TextChoices):
    RESOLVED = "resolved", _("已化解")
    EXPLAINED = "explained", _("解释后接受")
    UNRESOLVED = "unresolved", _("未化解")


class SurveyKind(models.TextChoices):
    PUBLIC = "public", _("公众民调")
    ENTERPRISE = "enterprise", _("企业问卷（便企）")


class SurveyStatus(models.TextChoices):
    """draft → sampling (sample drawn, invitations not sent) → open (SMS sent, answers taken) → closed."""

    DRAFT = "draft", _("草稿")
    SAMPLING = "sampling", _("已抽样")
    OPEN = "open", _("调查中")
    CLOSED = "closed", _("已结束")

    @property
    def css(self) -> str:
        return {"draft": "state", "sampling": "state-warn", "open": "state-ok", "closed": "state"}[self.value]


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("单选")
    SCALE = "scale", _("评分（1-5分）")
    TEXT = "text", _("文字")


class SampleSource(models.TextChoices):
    RECORDS = "records", _("业务记录")
    ENTERPRISES = "enterprises", _("涉企诉求联系人")
    UPLOAD = "upload", _("上传名单")
