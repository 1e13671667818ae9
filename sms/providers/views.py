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


def _allowed_by(token_setting: str, cidrs_setting: str):
    """The check of one provider's callbacks: the token in the path and the caller's address,
    against the two settings named (read at each request)."""

    def allowed(request: HttpRequest, token: str) -> bool:
        return callback_allowed(
            request,
            token=token,
            expected_token=getattr(settings, token_setting),
            cidrs=getattr(settings, cidrs_setting),
        )

    return allowed


_aliyun_allowed = _allowed_by("ALIYUN_SMS_CALLBACK_TOKEN", "ALIYUN_SMS_CALLBACK_CIDRS")
_tencent_allowed = _allowed_by("TENCENT_SMS_CALLBACK_TOKEN", "TENCENT_SMS_CALLBACK_CIDRS")


ALIYUN_OK = {"code": 0, "msg": "接收成功"}
TENCENT_OK = {"result": 0, "errmsg": "OK"}


def _callback_view(*, allowed, parse, apply, ok: dict, shape: str):
    """One provider callback: token and address checked, body parsed, stored, acknowledged."""

    @csrf_exempt
    @require_POST
    def view(request: HttpRequest, token: str) -> JsonResponse:
        if not allowed(request, token):
            return refused()
        items = parse(json_body(request))
        if items is None:
            return malformed(f"expected {shape}")
        apply(items)
        return JsonResponse(ok)

    return view


# SmsReport (HTTP batch push): a JSON array of delivery reports.
aliyun_report = _callback_view(
    allowed=_aliyun_allowed,
    parse=aliyun.parse_reports,
    apply=aliyun.apply_reports,
    ok=ALIYUN_OK,
    shape="a JSON array of SmsReport items",
)
# SmsUp (HTTP batch push): a JSON array of citizens' replies.
aliyun_reply = _callback_view(
    allowed=_aliyun_allowed,
    parse=aliyun.parse_replies,
    apply=aliyun.receive_replies,
    ok=ALIYUN_OK,
    shape="a JSON array of SmsUp items",
)
# Delivery status callback (短信下发状态通知): a JSON array of reports.
tencent_report = _callback_view(
    allowed=_tencent_allowed,
    parse=tencent.parse_reports,
    apply=tencent.apply_reports,
    ok=TENCENT_OK,
    shape="a JSON array of status reports",
)
# Reply callback (短信回复): one JSON object per citizen's reply.
tencent_reply = _callback_view(
    allowed=_tencent_allowed,
    parse=tencent.parse_reply,
    apply=tencent.receive_reply,
    ok=TENCENT_OK,
    shape="a JSON reply object",
)
