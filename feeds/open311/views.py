"""The GeoReport v2 endpoints: thin, each a selector or the service, answered in the format the
extension names, refusals in the spec's error body."""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from units.auth import client_address

from . import formats, selectors
from .services import Open311Error, check_jurisdiction, submit_request


def _in_jurisdiction(view):
    """Every GeoReport call names (or omits) our jurisdiction_id; refusals use the spec's body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, fmt: str, **kwargs) -> HttpResponse:
        try:
            check_jurisdiction(request.GET.get("jurisdiction_id"))
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return formats.error(fmt, exc.status, exc.description)

    return wrapper


def _requests_body(appeals) -> list[dict]:
    return [selectors.request_record(appeal) for appeal in appeals]


@require_GET
@_in_jurisdiction
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """``GET services.(json|xml)``: the services (categories) a request may be filed under."""
    return formats.respond(fmt, selectors.service_list(), root="services", item="service")


@require_GET
@_in_jurisdiction
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """``GET services/<service_code>.(json|xml)``: the extra attributes of a service (none)."""
    category = selectors.service_for_code(code)
    if category is None:
        return formats.error(fmt, 404, _("service_code %(code)s 未找到。") % {"code": code})
    return formats.respond(fmt, selectors.service_definition(category), root="service_definition", item=None)


@csrf_exempt  # a platform posts with its api_key, never with a browser session
@require_http_methods(["GET", "POST"])
@_in_jurisdiction
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    """``GET requests``: public requests for the spec's filters. ``POST requests``: file one."""
    try:
        if request.method == "POST":
            posted = submit_request(request.POST, address=client_address(request) or "unknown")
            body = [
                {
                    "service_request_id": posted.appeal_code,
                    "token": posted.token,
                    "service_notice": _("已受理，可凭编号 %(code)s 查询办理进度。") % {"code": posted.appeal_code},
                    "account_id": None,
                }
            ]
            return formats.respond(fmt, body, root="service_requests", item="request", status=201)
        appeals = selectors.find_requests(request.GET)
    except Open311Error as exc:
        return formats.error(fmt, exc.status, exc.description)
    except selectors.BadQuery as exc:
        return formats.error(fmt, 400, str(exc))
    return formats.respond(fmt, _requests_body(appeals), root="service_requests", item="request")


@require_GET
@_in_jurisdiction
def request_detail(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """``GET requests/<service_request_id>.(json|xml)``: one public request, in a list of one."""
    appeal = selectors.request_for_code(code)
    if appeal is None:
        return formats.error(fmt, 404, _("service_request_id %(code)s 未找到。") % {"code": code})
    return formats.respond(fmt, _requests_body([appeal]), root="service_requests", item="request")


@require_GET
@_in_jurisdiction
def token_detail(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """``GET tokens/<token>.(json|xml)``: the service_request_id a POST's token stands for."""
    posted = selectors.request_for_token(token)
    if posted is None:
        return formats.error(fmt, 404, _("token %(token)s 未找到。") % {"token": token[:40]})
    body = [{"service_request_id": posted.appeal.tracking_code, "token": posted.token}]
    return formats.respond(fmt, body, root="service_requests", item="request")


# When this endpoint last changed in a way a client should notice (the discovery's ``changeset``).
CHANGESET = "2026-12-07T00:00:00+08:00"


@require_GET
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """``GET /open311/discovery.(json|xml)``: the spec's service discovery file, one endpoint."""
    body = {
        "changeset": CHANGESET,
        "contact": _("民意感知中心系统管理员"),
        "key_service": _("向民意感知中心系统管理员申请 api_key（系统管理 › 数据来源，类型 Open311客户端）。"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return formats.respond(fmt, body, root="discovery", item=None)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under ``/open311/``: the spec's error body (XML unless it asked for JSON)."""
    fmt = "json" if request.path.endswith(".json") else "xml"
    return formats.error(fmt, 404, _("没有这个 Open311 资源。"))
