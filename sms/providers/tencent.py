"""Tencent Cloud SMS (腾讯云短信, API 2021-01-11) through the official SDK
``tencentcloud-sdk-python-sms`` (TC3-HMAC-SHA256 signed): SendSms with the SDK app id, the
signature, the approved template id and the template parameters as an ordered list of strings
(the order of the placeholders in our template text); PullSmsSendStatusByPhoneNumber to settle an
ambiguous send; delivery reports and replies pushed to our callback URLs.

Every send carries ``SessionContext`` = the outbox row id, which the status pull gives back.

One number per SendSms: SendSms takes up to 200 numbers, but only with the same parameters, and
our messages differ per citizen (date, query code); one call per row also keeps the outbox's
per-row claim, attempt and reconciliation exact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intake.phones import mask

from ..backends import AmbiguousError, BaseBackend, OutgoingMessage, PermanentError, ProviderResult, TransientError
from .common import (
    ErrorCodes,
    check_template_params,
    network_failure,
    placeholder_values,
    provider_template_id,
)

logger = logging.getLogger(__name__)

# Error codes: what the outbox does with the message (the table in docs/sms.md). Everything else
# (template or signature not approved, app id, credentials, sensitive words): our configuration
# is wrong and all later messages will fail alike → give up, tell the admins.
error_for = ErrorCodes(
    retry_later={
        "LimitExceeded.PhoneNumberOneHourLimit": dt.timedelta(hours=1),
        "LimitExceeded.DeliveryFrequencyLimit": dt.timedelta(hours=1),
        "LimitExceeded.PhoneNumberThirtySecondLimit": None,
        "RequestLimitExceeded": None,
        "InternalError.RequestTimeException": None,
        "InternalError.SendAndRecvFail": None,
        "InternalError.OtherError": None,
        "FailedOperation.InsufficientBalanceInSmsPackage": None,
    },
    retry_tomorrow={
        "LimitExceeded.PhoneNumberDailyLimit",
        "LimitExceeded.PhoneNumberSameContentDailyLimit",
        "LimitExceeded.DailyLimit",
    },
    ambiguous={"InternalError.Timeout"},  # Tencent timed out towards the carrier: it may have gone
    opt_out={"FailedOperation.PhoneNumberInBlacklist"},  # 免打扰名单: the citizen unsubscribed
    give_up={
        "InvalidParameterValue.IncorrectPhoneNumber",
        "InvalidParameterValue.TemplateParameterFormatError",
        "InvalidParameterValue.TemplateParameterLengthLimit",
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
        "UnsupportedOperation.UnsupportedRegion",
        "FailedOperation.PhoneNumberParseFail",
        "FailedOperation.FailResolvePacket",
    },
    alert_while_retrying={"LimitExceeded.DailyLimit", "FailedOperation.InsufficientBalanceInSmsPackage"},
    account_alert=gettext_lazy("腾讯云短信应用无法发送（%(code)s），短信将稍后重试，请检查套餐余量与发送限额。"),
    alert_key="surveys:tencent-account",
).error_for

REPORT_STATUS = {"SUCCESS": "delivered", "FAIL": "undelivered"}


def _client():
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import sms_client

    from units.logging import mask_handlers

    # The SDK's logger gets its own handlers (on import, and a stream one if debug logging is
    # turned on): the mask on the logger itself covers every line it emits (ARCHITECTURE rule 8).
    mask_handlers(logging.getLogger("tencentcloud_sdk_common"))

    http = HttpProfile(
        protocol=settings.TENCENT_SMS_PROTOCOL,
        endpoint=settings.TENCENT_SMS_ENDPOINT,
        reqTimeout=settings.TENCENT_SMS_TIMEOUT_SECONDS,
    )
    profile = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http)
    cred = credential.Credential(settings.TENCENT_SMS_SECRET_ID, settings.TENCENT_SMS_SECRET_KEY)
    return sms_client.SmsClient(cred, settings.TENCENT_SMS_REGION, profile)


def ordered_params(text: str, params: dict[str, Any]) -> list[str]:
    """TemplateParamSet: the values in the order their placeholders appear in the text (the
    approved Tencent template numbers them {1}, {2}, … in that same order)."""
    return [value for _name, value in placeholder_values(text, params)]


class TencentBackend(BaseBackend):
    """Tencent Cloud SMS through the official SDK; one SendSms per outbox row."""

    name = "tencent"

    def __init__(self) -> None:
        self.client = _client()

    def sender(self) -> str:
        return f"tencent:{settings.TENCENT_SMS_SDK_APP_ID}"

    @staticmethod
    def validate_params(*, text: str, params: dict[str, Any]) -> None:
        """Every variable a non-empty string of at most TENCENT_SMS_PARAM_MAX_LENGTH characters
        (the length the templates were approved with), without a link."""
        check_template_params(
            placeholder_values(text, params), limit=settings.TENCENT_SMS_PARAM_MAX_LENGTH, provider=_("腾讯云")
        )

    def send(self, message: OutgoingMessage) -> ProviderResult:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        from ..catalogue import template_text

        template_id = provider_template_id(message.template_code)
        if not template_id:
            raise PermanentError(
                _("模板 %(code)s 未填写腾讯云模板编号。") % {"code": message.template_code},
                code="no_template_id",
                alert=True,
            )
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [message.to]
        request.SmsSdkAppId = settings.TENCENT_SMS_SDK_APP_ID
        request.SignName = settings.TENCENT_SMS_SIGN_NAME
        request.TemplateId = template_id
        request.TemplateParamSet = ordered_params(template_text(message.template_code), message.params)
        request.SessionContext = str(message.reference)
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            if exc.code in ("ClientNetworkError", "ServerNetworkError"):
                raise _network_error(exc) from exc
            raise error_for(exc.code or "", exc.message or "") from exc
        except Exception as exc:
            raise _network_error(exc) from exc
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise AmbiguousError(_("腾讯云短信未返回发送状态。"), code="no_status")
        if status.Code != "Ok":
            raise error_for(status.Code or "", status.Message or "")
        logger.info("SMS #%s to %s taken by Tencent: %s", message.reference, mask(message.to), status.SerialNo)
        return ProviderResult(sid=status.SerialNo, status="sent")

    def _pull(self, *, phone: str, since: dt.datetime) -> list:
        from tencentcloud.sms.v20210111 import models

        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int(since.timestamp())
        request.EndTime = int(timezone.now().timestamp()) + 60
        request.Offset = 0
        request.Limit = 100
        request.PhoneNumber = phone
        request.SmsSdkAppId = settings.TENCENT_SMS_SDK_APP_ID
        # An exception here means "could not tell": the reconciliation asks again later.
        return list(self.client.PullSmsSendStatusByPhoneNumber(request).PullSmsSendStatusSet or [])

    def fetch_status(self, sid: str) -> str | None:
        from ..models import OutboundSms

        sms = OutboundSms.objects.filter(provider_sid=sid).first()
        if sms is None:
            return None
        since = (sms.claimed_at or sms.created_at) - dt.timedelta(minutes=5)
        for item in self._pull(phone=sms.phone, since=since):
            if item.SerialNo == sid:
                return REPORT_STATUS.get(item.ReportStatus or "", "sent")
        return None

    def find_sent(self, message: OutgoingMessage, *, since: dt.datetime) -> ProviderResult | None:
        # The pull lists status reports: a message taken but not yet reported looks absent, which
        # is why "absent" must be heard SMS_RECONCILE_NOT_FOUND_CHECKS times, minutes apart.
        for item in self._pull(phone=message.to, since=since):
            if str(item.SessionContext or "") == str(message.reference):
                return ProviderResult(sid=item.SerialNo, status=REPORT_STATUS.get(item.ReportStatus or "", "sent"))
        return None


def _network_error(exc: Exception) -> Exception:
    never, described = network_failure(exc)
    if never:
        return TransientError(_("无法连接腾讯云短信（%(e)s）。") % {"e": described}, code="connect")
    return AmbiguousError(_("腾讯云短信未答复（%(e)s），无法确认是否已受理。") % {"e": described}, code="timeout")


# --- callbacks -------------------------------------------------------------------------------


def parse_reports(document) -> list[dict] | None:
    """The status reports of a callback (a JSON array), or None when it is not one."""
    if not isinstance(document, list):
        return None
    for item in document:
        if not isinstance(item, dict) or not item.get("sid") or item.get("report_status") not in REPORT_STATUS:
            return None
    return document


def apply_reports(items: list[dict]) -> None:
    from ..outbox import apply_delivery_status

    for item in items:
        success = item["report_status"] == "SUCCESS"
        code = str(item.get("errmsg") or item["report_status"])
        apply_delivery_status(
            provider_sid=str(item["sid"]),
            provider_status=code,
            error_code="" if success else code,
            status=REPORT_STATUS[item["report_status"]],
        )


def parse_reply(document) -> dict | None:
    """The reply of a callback (one JSON object), or None when it is not one."""
    if not isinstance(document, dict):
        return None
    if not document.get("mobile") or not isinstance(document.get("text"), str):
        return None
    if not isinstance(document.get("time"), int):
        return None
    return document


def reply_id(item: dict) -> str:
    """Tencent gives a reply no id: a keyed digest of sender, time and text stands in for it,
    so that a pushed-again reply is recognised (and no phone number is readable from it)."""
    raw = f"{item.get('nationcode', '')}|{item['mobile']}|{item['time']}|{item['text']}"
    return "tc-" + hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()[:40]


def receive_reply(item: dict):
    from ..inbound import receive_inbound

    nation = str(item.get("nationcode") or "86")
    return receive_inbound(
        provider="tencent",
        message_id=reply_id(item),
        phone=f"+{nation}{item['mobile']}",
        body=item["text"],
        received_at=dt.datetime.fromtimestamp(item["time"], tz=dt.UTC),
    )
