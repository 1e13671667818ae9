"""A service request posted by an Open311 client becomes an appeal through the one door,
``intake.services.create_appeal``, with the public mailboxes' limits (docs/open311.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from intake import ratelimit
from intake.choices import Channel
from intake.limits import APPEAL_FIELD_LIMITS, MAILBOX_CONTENT_MAX_CHARS
from intake.phones import hash_of
from intake.services import create_appeal

from ..auth import source_for_key
from ..choices import FeedKind
from ..models import FeedSource, Open311Request
from . import selectors

# NUL, other C0 controls (tab and line breaks allowed), and the replacement character a body
# that was not UTF-8 decodes to: such input is an attack or a broken client, refused with 400.
_HOSTILE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")

# Posted field → the longest value taken (the mailboxes' content limit for the description).
FIELD_LIMITS = {
    "api_key": 200,
    "jurisdiction_id": 100,
    "service_code": 32,
    "lat": 32,
    "long": 32,
    "address_string": APPEAL_FIELD_LIMITS["address"],
    "address_id": 64,
    "email": 254,
    "device_id": 100,
    "account_id": 64,
    "first_name": 30,
    "last_name": 30,
    "phone": APPEAL_FIELD_LIMITS["citizen_phone"],
    "description": MAILBOX_CONTENT_MAX_CHARS,
    "media_url": 500,
}


class Open311Error(Exception):
    """A refusal with the HTTP status and the description the spec's error body carries."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass
class Posted:
    appeal_code: str
    token: str


def check_jurisdiction(value: str | None) -> None:
    """A ``jurisdiction_id``, when given, must be ours (404 otherwise). The spec makes it optional
    for an endpoint that serves one jurisdiction, which this one does."""
    if value and value != settings.OPEN311_JURISDICTION_ID:
        raise Open311Error(
            404, _("jurisdiction_id 未找到：本接口只服务 %(id)s。") % {"id": settings.OPEN311_JURISDICTION_ID}
        )


def client_for_key(api_key: str) -> FeedSource:
    """The active Open311 client whose key this is; 403 for none, a wrong key or another kind."""
    if not api_key:
        raise Open311Error(403, _("缺少 api_key。"))
    source = source_for_key(api_key)
    if source is None or source.kind != FeedKind.OPEN311:
        raise Open311Error(403, _("api_key 无效或已停用。"))
    return source


def clean_fields(data) -> dict[str, str]:
    """The posted fields we know, stripped; 400 for hostile or overlong values."""
    for name in data:
        for value in data.getlist(name) if hasattr(data, "getlist") else [data[name]]:
            if _HOSTILE.search(name) or _HOSTILE.search(value or ""):
                raise Open311Error(400, _("请求含有不允许的控制字符或无效编码。"))
    cleaned = {}
    for name, limit in FIELD_LIMITS.items():
        value = (data.get(name) or "").strip()
        if len(value) > limit:
            raise Open311Error(400, _("%(field)s 不能超过 %(limit)d 个字符。") % {"field": name, "limit": limit})
        cleaned[name] = value
    return cleaned


def _coordinate(name: str, value: str, bound: int) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) > bound:
        raise Open311Error(400, _("%(field)s 不是有效的坐标。") % {"field": name})
    return number.quantize(Decimal("0.000001"))


def _allowed(client: FeedSource, *, address: str, caller: str | None, device: str) -> bool:
    """The mailboxes' counters (per address, phone, device) plus one per client key."""
    checks = [
        (f"open311:key:{client.pk}", settings.OPEN311_PER_KEY_PER_HOUR, 3600),
        (f"ip:{address}", settings.INTAKE_MAILBOX_PER_IP_PER_HOUR, 3600),
        (f"ip-day:{address}", settings.INTAKE_MAILBOX_PER_IP_PER_DAY, 86400),
    ]
    if caller:
        checks.append((f"phone:{caller}", settings.INTAKE_MAILBOX_PER_PHONE_PER_DAY, 86400))
    if device:
        checks.append((f"open311:device:{client.pk}:{device}", settings.INTAKE_MAILBOX_PER_DEVICE_PER_DAY, 86400))
    return all(ratelimit.hit(key, limit=limit, window=window) for key, limit, window in checks)


def submit_request(data, *, address: str) -> Posted:
    """Receive one GeoReport v2 ``POST requests``: check the key, jurisdiction, service and
    location, count it against the abuse limits, and create the appeal with its Open311 row.

    The appeal gets the client's channel (a message board unless the administrator chose another),
    the service's category, the description (the service's name when none was given), the name
    and phone (normalised and stored encrypted by ``create_appeal``); the e-mail is not kept.
    """
    fields = clean_fields(data)
    client = client_for_key(fields["api_key"])
    check_jurisdiction(data.get("jurisdiction_id"))
    if not fields["service_code"]:
        raise Open311Error(400, _("缺少 service_code。"))
    category = selectors.service_for_code(fields["service_code"])
    if category is None:
        raise Open311Error(400, _("service_code %(code)s 未找到。") % {"code": fields["service_code"]})
    lat = _coordinate("lat", fields["lat"], 90)
    long = _coordinate("long", fields["long"], 180)
    if (lat is None) != (long is None):
        raise Open311Error(400, _("lat 和 long 须同时提供。"))
    if lat is None and not fields["address_string"] and not fields["address_id"]:
        raise Open311Error(400, _("须提供位置：lat/long、address_string 或 address_id 之一。"))
    caller = None
    if fields["phone"]:
        caller = hash_of(fields["phone"])
        if caller is None:
            raise Open311Error(400, _("phone 电话号码格式不正确。"))
    if not _allowed(client, address=address, caller=caller, device=fields["device_id"]):
        raise Open311Error(429, _("提交过于频繁，请稍后再试；紧急情况请拨打110。"))

    name = f"{fields['last_name']}{fields['first_name']}"[: APPEAL_FIELD_LIMITS["citizen_name"]]
    try:
        with transaction.atomic():
            appeal, _created = create_appeal(
                channel=client.channel or Channel.MESSAGE_BOARD,
                content=fields["description"] or category.name,
                citizen_name=name,
                citizen_phone=fields["phone"],
                address=fields["address_string"],
                category=category,
            )
            posted = Open311Request.objects.create(
                appeal=appeal,
                client=client,
                lat=lat,
                long=long,
                address_string=fields["address_string"],
                address_id=fields["address_id"],
            )
    except ValidationError as exc:
        raise Open311Error(400, "；".join(exc.messages)) from exc
    return Posted(appeal_code=appeal.tracking_code, token=posted.token)
