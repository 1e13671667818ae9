"""Aliyun SMS (阿里云短信服务, dysmsapi 2017-05-25) through the official SDK
``alibabacloud-dysmsapi20170525``: SendSms with the registered signature (签名), the approved
template code and the template parameters as a JSON object; QuerySendDetails to settle an
ambiguous send; delivery reports (SmsReport) and replies (SmsUp) pushed to us as JSON arrays
("HTTP 批量推送").

Every send carries ``OutId`` = the outbox row id, which QuerySendDetails and SmsReport give back:
reconciliation finds exactly this row's message, never a look-alike.

Batch sending (SendBatchSms) is not used: one BizId covers every number of a batch, so a report
or a reconciliation answer could not be told apart per row, and a timeout would leave up to 100
rows ambiguous at once; each row keeps its own claim, attempt and OutId.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

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

PARAM_MAX_LENGTH = 35  # notification templates: each variable 1–35 characters

# SendSms answer codes: what the outbox does with the message (the table in docs/sms.md). A code
# not listed is treated as permanent (never a loop of retries) and administrators are told.
error_for = ErrorCodes(
    retry_later={
        "isv.BUSINESS_LIMIT_CONTROL": dt.timedelta(hours=1),  # flow control per number (minute/hour/day)
        "isp.SYSTEM_ERROR": None,  # back off as for any transient error
        "isv.OUT_OF_SERVICE": None,  # account suspended (no balance): retry, administrators told
        "isv.AMOUNT_NOT_ENOUGH": None,
    },
    retry_tomorrow={"isv.DAY_LIMIT_CONTROL"},
    opt_out={"isv.BLACK_KEY_CONTROL_LIMIT"},  # the number is on the provider's blacklist (黑名单管控)
    give_up={
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.INVALID_PARAMETERS",
    },
    alert_while_retrying={"isv.OUT_OF_SERVICE", "isv.AMOUNT_NOT_ENOUGH"},
    account_alert=gettext_lazy("阿里云短信账户无法发送（%(code)s），短信将稍后重试，请检查账户余额与状态。"),
    alert_key="surveys:aliyun-account",
).error_for

# Codes known to mean our configuration is wrong (every message of the template, or all of them,
# will fail alike): not listed above, so they give up and tell the administrators.
GIVE_UP_AND_ALERT = {
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_SIGN_ILLEGAL",
    "isv.SIGN_STATE_ILLEGAL",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.TEMPLATE_PARAMS_ILLEGAL",
    "isv.SMS_CONTENT_ILLEGAL",
    "isv.MONTH_LIMIT_CONTROL",
    "isv.PRODUCT_UN_SUBSCRIPT",
    "isv.PRODUCT_UNSUBSCRIBE",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isp.RAM_PERMISSION_DENY",
    "isv.DENY_IP_RANGE",
}

# QuerySendDetails SendStatus: 1 waiting for the carrier's report, 2 failed, 3 delivered.
QUERY_STATUS = {1: "sent", 2: "undelivered", 3: "delivered"}


# Loggers to which the Aliyun SDK adds its own stderr handlers when imported (outside LOGGING).
SDK_LOGGERS = ("alibabacloud-tea", "credentials", "darabonba-core")


def _client():
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi import models as open_api_models

    from units.logging import mask_handlers

    # Every log line is masked (ARCHITECTURE rule 8), those handlers' too: an SDK line may quote
    # the request, and the request holds the citizen's number.
    for name in SDK_LOGGERS:
        mask_handlers(logging.getLogger(name))

    timeout_ms = int(settings.ALIYUN_SMS_TIMEOUT_SECONDS * 1000)
    config = open_api_models.Config(
        access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
        access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
        endpoint=settings.ALIYUN_SMS_ENDPOINT,
        protocol=settings.ALIYUN_SMS_PROTOCOL,
        read_timeout=timeout_ms,
        connect_timeout=timeout_ms,
    )
    return Client(config)


def _national(e164: str) -> str:
    # Domestic numbers are given as the 11 digits (the +86 prefix is optional for Aliyun).
    return e164[3:] if e164.startswith("+86") else e164


class AliyunBackend(BaseBackend):
    """Aliyun SMS through the official SDK; one SendSms per outbox row."""

    name = "aliyun"

    def __init__(self) -> None:
        self.client = _client()

    def sender(self) -> str:
        return f"aliyun:{settings.ALIYUN_SMS_SIGN_NAME}"

    @staticmethod
    def validate_params(*, text: str, params: dict[str, Any]) -> None:
        """TemplateParam is a JSON object; every variable of a notification template takes 1–35
        characters and no link (isv.PARAM_NOT_SUPPORT_URL): a link belongs in the template."""
        check_template_params(placeholder_values(text, params), limit=PARAM_MAX_LENGTH, provider=_("阿里云"))

    def send(self, message: OutgoingMessage) -> ProviderResult:
        from alibabacloud_dysmsapi20170525 import models as sms_models
        from alibabacloud_tea_openapi import exceptions as api_exceptions

        template_id = provider_template_id(message.template_code)
        if not template_id:
            raise PermanentError(
                _("模板 %(code)s 未填写阿里云模板编号。") % {"code": message.template_code},
                code="no_template_code",
                alert=True,
            )
        request = sms_models.SendSmsRequest(
            phone_numbers=_national(message.to),
            sign_name=settings.ALIYUN_SMS_SIGN_NAME,
            template_code=template_id,
            template_param=json.dumps(message.params or {}, ensure_ascii=False),
            out_id=str(message.reference),
        )
        try:
            body = self.client.send_sms(request).body
        except api_exceptions.ThrottlingException as exc:
            raise TransientError(str(exc.message)[:300], code=exc.code or "Throttling") from exc
        except api_exceptions.ClientException as exc:
            # 4xx from the gateway: signature, key or request refused; nothing will be taken.
            code = str(exc.code or exc.status_code)
            if code.startswith("Throttling"):
                raise TransientError(str(exc.message)[:300], code=code) from exc
            raise PermanentError(str(exc.message)[:300], code=code, alert=True) from exc
        except api_exceptions.ServerException as exc:
            raise TransientError(str(exc.message)[:300], code=str(exc.code or exc.status_code)) from exc
        except Exception as exc:
            raise _network_error(exc) from exc
        if body.code != "OK":
            raise error_for(body.code or "", body.message or "")
        logger.info("SMS #%s to %s taken by Aliyun: %s", message.reference, mask(message.to), body.biz_id)
        return ProviderResult(sid=body.biz_id, status="sent")

    def _details(self, *, phone: str, day: dt.date, biz_id: str = "") -> list:
        from alibabacloud_dysmsapi20170525 import models as sms_models

        request = sms_models.QuerySendDetailsRequest(
            phone_number=_national(phone),
            send_date=day.strftime("%Y%m%d"),
            page_size=50,
            current_page=1,
            biz_id=biz_id or None,
        )
        body = self.client.query_send_details(request).body
        if body.code != "OK":
            # The question failed (not "no such message"): the caller must not read it as absent.
            raise RuntimeError(f"QuerySendDetails {body.code}: {body.message}")
        dtos = body.sms_send_detail_dtos
        return list(dtos.sms_send_detail_dto or []) if dtos else []

    def fetch_status(self, sid: str) -> str | None:
        from ..models import OutboundSms

        sms = OutboundSms.objects.filter(provider_sid=sid).first()
        if sms is None:
            return None
        day = timezone.localtime(sms.sent_at or sms.claimed_at or sms.created_at).date()
        for item in self._details(phone=sms.phone, day=day, biz_id=sid):
            return QUERY_STATUS.get(int(item.send_status or 0))
        return None

    def find_sent(self, message: OutgoingMessage, *, since: dt.datetime) -> ProviderResult | None:
        zone = ZoneInfo(settings.TIME_ZONE)
        first, last = since.astimezone(zone).date(), timezone.now().astimezone(zone).date()
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)][-3:]
        for day in days:
            for item in self._details(phone=message.to, day=day):
                if str(item.out_id or "") == str(message.reference):
                    status = QUERY_STATUS.get(int(item.send_status or 0), "sent")
                    # QuerySendDetails gives no BizId; the first delivery report brings it (out_id).
                    return ProviderResult(sid=out_sid(message.reference), status=status)
        return None


def out_sid(reference: int) -> str:
    """The provider id of a message found by its OutId, until its report gives the BizId."""
    return f"aliyun-out:{reference}"


def _network_error(exc: Exception) -> Exception:
    """A failure without an answer: never connected → transient; else it may have been taken."""
    never, described = network_failure(exc)
    if never:
        return TransientError(_("无法连接阿里云短信（%(e)s）。") % {"e": described}, code="connect")
    return AmbiguousError(_("阿里云短信未答复（%(e)s），无法确认是否已受理。") % {"e": described}, code="timeout")


# --- callbacks -------------------------------------------------------------------------------


def apply_reports(items: list[dict]) -> int:
    """Apply SmsReport items (each once per BizId and report code); returns how many were new."""
    from ..models import DeliveryStatusEvent, OutboundSms
    from ..outbox import apply_delivery_status

    new = 0
    for item in items:
        biz_id, out_id = str(item["biz_id"]), str(item.get("out_id") or "")
        if out_id.isdigit() and not OutboundSms.objects.filter(provider_sid=biz_id).exists():
            # Found by reconciliation before its BizId was known: adopt the BizId now.
            OutboundSms.objects.filter(pk=int(out_id), backend="aliyun", provider_sid=out_sid(int(out_id))).update(
                provider_sid=biz_id
            )
        code = str(item.get("err_code") or ("DELIVERED" if item["success"] else "FAILED"))
        before = DeliveryStatusEvent.objects.filter(provider_sid=biz_id[:64], provider_status=code[:24]).exists()
        apply_delivery_status(
            provider_sid=biz_id,
            provider_status=code,
            error_code="" if item["success"] else code,
            status="delivered" if item["success"] else "undelivered",
        )
        new += not before
    return new


def parse_reports(document) -> list[dict] | None:
    """The SmsReport items of a push, or None when the document is not one."""
    if not isinstance(document, list):
        return None
    items = []
    for item in document:
        if not isinstance(item, dict) or not item.get("biz_id") or not isinstance(item.get("success"), bool):
            return None
        items.append(item)
    return items


def parse_replies(document) -> list[dict] | None:
    """The SmsUp items of a push, or None when the document is not one."""
    if not isinstance(document, list):
        return None
    items = []
    for item in document:
        if not isinstance(item, dict) or not item.get("phone_number") or item.get("sequence_id") in (None, ""):
            return None
        if not isinstance(item.get("content"), str):
            return None
        items.append(item)
    return items


def receive_replies(items: list[dict]) -> int:
    """Each reply through the same path as every provider's (rating, opt-out, review)."""
    from ..inbound import receive_inbound

    new = 0
    for item in items:
        _row, created = receive_inbound(
            provider="aliyun",
            message_id=str(item["sequence_id"]),
            phone=str(item["phone_number"]),
            body=item["content"],
        )
        new += created
    return new
