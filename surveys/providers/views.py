"""Callback endpoints of Aliyun SMS and Tencent Cloud SMS: delivery reports and citizens' replies.

Neither provider signs its callbacks, so each endpoint checks the secret token in its path and
the caller's address against the provider's CIDR list (403 otherwise), reads a JSON body of the
documented shape (400 otherwise), stores everything before answering (replays change nothing)
and answers in the form the provider expects, so that it does not push again.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import aliyun, tencent
from .callbacks import callback_allowed, json_body, malformed, refused


def _aliyun_allowed(request: HttpRequest, token: str) -> bool:
    return callback_allowed(
        request,
        token=token,
        expected_token=settings.ALIYUN_SMS_CALLBACK_TOKEN,
        cidrs=settings.ALIYUN_SMS_CALLBACK_CIDRS,
    )


def _tencent_allowed(request: HttpRequest, token: str) -> bool:
    return callback_allowed(
        request,
        token=token,
        expected_token=settings.TENCENT_SMS_CALLBACK_TOKEN,
        cidrs=settings.TENCENT_SMS_CALLBACK_CIDRS,
    )


ALIYUN_OK = {"code": 0, "msg": "接收成功"}
TENCENT_OK = {"result": 0, "errmsg": "OK"}


@csrf_exempt
@require_POST
def aliyun_report(request: HttpRequest, token: str) -> JsonResponse:
    """SmsReport (HTTP batch push): a JSON array of delivery reports."""
    if not _aliyun_allowed(request, token):
        return refused()
    items = aliyun.parse_reports(json_body(request))
    if items is None:
        return malformed("expected a JSON array of SmsReport items")
    aliyun.apply_reports(items)
    return JsonResponse(ALIYUN_OK)


@csrf_exempt
@require_POST
def aliyun_reply(request: HttpRequest, token: str) -> JsonResponse:
    """SmsUp (HTTP batch push): a JSON array of citizens' replies."""
    if not _aliyun_allowed(request, token):
        return refused()
    items = aliyun.parse_replies(json_body(request))
    if items is None:
        return malformed("expected a JSON array of SmsUp items")
    aliyun.receive_replies(items)
    return JsonResponse(ALIYUN_OK)


@csrf_exempt
@require_POST
def tencent_report(request: HttpRequest, token: str) -> JsonResponse:
    """Delivery status callback (短信下发状态通知): a JSON array of reports."""
    if not _tencent_allowed(request, token):
        return refused()
    items = tencent.parse_reports(json_body(request))
    if items is None:
        return malformed("expected a JSON array of status reports")
    tencent.apply_reports(items)
    return JsonResponse(TENCENT_OK)


@csrf_exempt
@require_POST
def tencent_reply(request: HttpRequest, token: str) -> JsonResponse:
    """Reply callback (短信回复): one JSON object per citizen's reply."""
    if not _tencent_allowed(request, token):
        return refused()
    item = tencent.parse_reply(json_body(request))
    if item is None:
        return malformed("expected a JSON reply object")
    tencent.receive_reply(item)
    return JsonResponse(TENCENT_OK)
