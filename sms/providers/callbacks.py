"""Authentication of provider callbacks that carry no signature (Aliyun's HTTP batch push,
Tencent Cloud's status and reply callbacks): a secret token in the URL path, compared in constant
time, and a source address inside the configured CIDR list. Both are required; an empty list or
token refuses everything, so a half-configured deployment accepts nothing."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging

from django.http import HttpRequest, JsonResponse

from units.auth import client_address

logger = logging.getLogger(__name__)


def source_allowed(address: str | None, cidrs: list[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for cidr in cidrs:
        try:
            if ip in ipaddress.ip_network(cidr.strip(), strict=False):
                return True
        except ValueError:
            logger.warning("ignoring an invalid callback CIDR %r", cidr)
    return False


def callback_allowed(request: HttpRequest, *, token: str, expected_token: str, cidrs: list[str]) -> bool:
    """The request carries the configured token and comes from a configured address."""
    if not expected_token or not hmac.compare_digest(token.encode(), expected_token.encode()):
        return False
    return source_allowed(client_address(request), cidrs)


def json_body(request: HttpRequest):
    """The JSON document of the request, or None when it is not JSON (answered with a 400)."""
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def refused() -> JsonResponse:
    return JsonResponse({"code": 403, "msg": "forbidden"}, status=403)


def malformed(reason: str) -> JsonResponse:
    return JsonResponse({"code": 400, "msg": reason}, status=400)
