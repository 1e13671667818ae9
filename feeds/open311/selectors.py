"""What Open311 publishes: the services (categories) offered and the public face of the requests.

The rule for requests (docs/open311.md): only appeals posted through Open311 appear, since their
citizens filed them on a platform that publishes them; an appeal from the hotline, a mailbox or a
12345 feed never does. Of those, only what the spec lists and the citizen posted publicly goes
out: the category, the description with any phone number or e-mail address in it blotted out, the
address and coordinates as posted, the public status and reply, and the responsible unit's name.
Never the citizen's name, phone or e-mail.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intake.choices import AppealStatus
from intake.models import Appeal, Category

from ..models import Open311Request

# The spec: "a span of 90 days or first 1000 requests returned, whichever is smallest".
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000

OPEN_NOTES = {
    AppealStatus.NEW: gettext_lazy("已受理，等待分办"),
    AppealStatus.PENDING_DISPATCH: gettext_lazy("已受理，等待分办"),
    AppealStatus.DISPATCHED: gettext_lazy("办理中"),
}
MERGED_NOTE = gettext_lazy("已与相同事项合并办理")

# A run of 7 or more digits (spaces and dashes between them allowed) and anything like an e-mail
# address: a citizen who typed his number into the description did not mean to publish it.
_PHONE_LIKE = re.compile(r"\+?\d[\d\s\-－]{5,}\d")
_EMAIL_LIKE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# XML 1.0 cannot carry these; nothing we publish should hold them anyway.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def public_text(text: str) -> str:
    """``text`` with phone numbers and e-mail addresses replaced by ``***``."""
    text = _CONTROL.sub("", text or "")
    text = _EMAIL_LIKE.sub("***", text)
    return _PHONE_LIKE.sub(lambda m: "***" if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset, in the bureau's time zone (``2026-05-20T14:30:00+08:00``)."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- Services ----------------------------------------------------------------------------------


def service_categories() -> list[Category]:
    """The categories offered as services: the active leaves of the tree (a parent with active
    children is their group), limited to ``OPEN311_SERVICE_CODES`` when the operator set it."""
    categories = list(Category.objects.filter(is_active=True).select_related("parent"))
    parents = {c.parent_id for c in categories if c.parent_id}
    leaves = [c for c in categories if c.pk not in parents and (c.parent is None or c.parent.is_active)]
    wanted = set(settings.OPEN311_SERVICE_CODES)
    if wanted:
        leaves = [c for c in leaves if c.code in wanted]
    return leaves


def service_for_code(code: str) -> Category | None:
    return next((c for c in service_categories() if c.code == code), None)


def service_record(category: Category) -> dict:
    group = category.parent.name if category.parent_id else category.name
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": str(category),
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys([category.name, group])),
        "group": group,
    }


def service_list() -> list[dict]:
    return [service_record(c) for c in service_categories()]


def service_definition(category: Category) -> dict:
    """No service asks extra questions (``metadata`` is false): an empty attribute list."""
    return {"service_code": category.code, "attributes": []}


# --- Requests ----------------------------------------------------------------------------------


class BadQuery(ValueError):
    """A filter the spec does not allow (the view answers 400 with this message)."""


def _public_requests() -> QuerySet[Appeal]:
    return Appeal.objects.filter(open311__isnull=False).select_related("category", "unit", "open311")


def _parse_moment(name: str, value: str) -> datetime:
    from django.utils.dateparse import parse_date, parse_datetime

    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise BadQuery(_("%(name)s 不是有效的 ISO 8601 时间。") % {"name": name})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def find_requests(params, *, now: datetime | None = None) -> list[Appeal]:
    """The public requests for the spec's GET filters, newest first, at most 1,000.

    ``service_request_id`` (comma list of tracking codes) wins over every other filter, as the
    spec says. Otherwise ``service_code`` and ``status`` (comma lists) and ``start_date`` /
    ``end_date`` filter, within a span of at most 90 days (the last 90 days by default).
    """
    ids = _split(params.get("service_request_id", ""))
    if ids:
        if len(ids) > MAX_RESULTS:
            raise BadQuery(_("service_request_id 一次最多 %(n)d 个。") % {"n": MAX_RESULTS})
        return list(_public_requests().filter(tracking_code__in=[i.upper() for i in ids])[:MAX_RESULTS])

    now = now or timezone.now()
    start = _parse_moment("start_date", params["start_date"]) if params.get("start_date") else None
    end = _parse_moment("end_date", params["end_date"]) if params.get("end_date") else None
    if start and end and start > end:
        raise BadQuery(_("start_date 不能晚于 end_date。"))
    if start and end and end - start > MAX_SPAN:
        raise BadQuery(_("查询时间跨度不能超过 90 天。"))
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    appeals = _public_requests().filter(received_at__gte=start, received_at__lte=end)

    codes = _split(params.get("service_code", ""))
    if codes:
        appeals = appeals.filter(category__code__in=codes)
    statuses = set(_split(params.get("status", "").lower()))
    if statuses - {"open", "closed"}:
        raise BadQuery(_("status 只能是 open 或 closed。"))
    if statuses == {"open"}:
        appeals = appeals.exclude(status__in=[AppealStatus.CLOSED, AppealStatus.MERGED])
    elif statuses == {"closed"}:
        appeals = appeals.filter(status__in=[AppealStatus.CLOSED, AppealStatus.MERGED])
    return list(appeals.order_by("-received_at", "-id")[:MAX_RESULTS])


def request_for_code(code: str) -> Appeal | None:
    return _public_requests().filter(tracking_code=(code or "").upper()).first()


def request_for_token(token: str) -> Open311Request | None:
    return Open311Request.objects.select_related("appeal").filter(token=token).first()


def _status_notes(appeal: Appeal) -> str:
    if appeal.status == AppealStatus.CLOSED:
        return public_text(appeal.public_reply)
    if appeal.status == AppealStatus.MERGED:
        return str(MERGED_NOTE)
    return str(OPEN_NOTES[appeal.status])


def request_record(appeal: Appeal) -> dict:
    """The spec's service request, from what may be public (see the module's rule)."""
    posted = appeal.open311
    category = appeal.category
    return {
        "service_request_id": appeal.tracking_code,
        "status": "open" if appeal.is_open else "closed",
        "status_notes": _status_notes(appeal),
        "service_name": category.name if category else None,
        "service_code": category.code if category else None,
        "description": public_text(appeal.content),
        "agency_responsible": appeal.unit.name if appeal.unit_id else None,
        "service_notice": None,
        "requested_datetime": iso(appeal.received_at),
        "updated_datetime": iso(appeal.updated_at),
        "expected_datetime": None,
        "address": public_text(posted.address_string) or None,
        "address_id": posted.address_id or None,
        "zipcode": None,
        "lat": float(posted.lat) if posted.lat is not None else None,
        "long": float(posted.long) if posted.long is not None else None,
        "media_url": None,
    }
