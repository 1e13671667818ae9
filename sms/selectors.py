"""Reads of the SMS layer: the simulator's conversations, and why a message is where it is."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import SmsStatus
from .models import InboundSms, OptOut, OutboundSms
from .texts import in_sending_hours, next_sending_time, sending_hours

PHONES_PER_PAGE = 20
MESSAGES_PER_PHONE = 30

# A link the demo wrote without a host ("/s/<token>/", "/track/…"): shown with the host and port
# the page was opened on, so the demo's links work wherever it runs.
_RELATIVE_LINK = re.compile(r"(?<![\w/:.])(/(?:s|track|qr)/[\w\-./?=&%]*)")


def _hhmm(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def state_reason(sms: OutboundSms, *, now: dt.datetime | None = None, opted_out: bool = False) -> str:
    """The message's state and why, as the simulator shows it ("待发送：发送时段 09:00–20:00")."""
    now = now or timezone.now()
    label = sms.get_status_display()
    if sms.status == SmsStatus.QUEUED:
        if opted_out:
            reason = _("号码已退订")
        elif sms.send_after > now:
            reason = _("预约 %(t)s 发送") % {"t": _hhmm(max(sms.send_after, next_sending_time(sms.send_after)))}
        elif not in_sending_hours(now):
            start, end = sending_hours()
            reason = _("发送时段 %(a)s–%(b)s") % {"a": start.strftime("%H:%M"), "b": end.strftime("%H:%M")}
        elif sms.next_attempt_at > now:
            reason = _("第%(n)d次发送失败，%(t)s 重试") % {"n": sms.attempts, "t": _hhmm(sms.next_attempt_at)}
            if sms.last_error:
                reason += _("（%(e)s）") % {"e": sms.last_error[:60]}
        else:
            reason = _("按发送速率排队")
    elif sms.status == SmsStatus.SENDING:
        reason = _("结果不明，待与服务商核对") if sms.needs_reconciliation else _("服务商处理中")
    elif sms.status in (SmsStatus.FAILED, SmsStatus.UNDELIVERED):
        reason = sms.last_error
    else:
        reason = ""
    return _("%(state)s：%(reason)s") % {"state": label, "reason": reason} if reason else str(label)


def absolute_links(text: str, base_url: str) -> str:
    """Host-less links of a demo SMS made absolute: PUBLIC_BASE_URL when set, else ``base_url``."""
    base = (settings.PUBLIC_BASE_URL or base_url).rstrip("/")
    return _RELATIVE_LINK.sub(lambda m: base + m.group(1), text)


def simulator_page(*, page: str | None, phone_hash: str = "", base_url: str = "") -> dict[str, Any]:
    """One page of conversations, a phone each, the phone with the newest SMS first; or the one
    phone searched for (by its keyed hash)."""
    phones = OutboundSms.objects.values("phone_hash").annotate(last=Max("created_at")).order_by("-last", "phone_hash")
    if phone_hash:
        phones = phones.filter(phone_hash=phone_hash)
    paginator = Paginator(phones, PHONES_PER_PAGE)
    page_obj = paginator.get_page(page)
    hashes = [row["phone_hash"] for row in page_obj.object_list]
    opted_out = set(OptOut.objects.filter(phone_hash__in=hashes).values_list("phone_hash", flat=True))
    now = timezone.now()
    threads: dict[str, dict[str, Any]] = {h: {"ref": None, "masked": "", "items": []} for h in hashes}
    for digest in hashes:
        thread = threads[digest]
        recent = list(OutboundSms.objects.filter(phone_hash=digest).order_by("-created_at", "-id")[:MESSAGES_PER_PHONE])
        # Masked like on every other page: the simulator is no way round the reveal log.
        thread["ref"], thread["masked"] = recent[0].pk, recent[0].masked_phone
        thread["opted_out"] = digest in opted_out
        for sms in recent:
            thread["items"].append(
                {
                    "kind": "out",
                    "at": sms.created_at,
                    "sms": sms,
                    "text": absolute_links(sms.text, base_url),
                    "state": state_reason(sms, now=now, opted_out=digest in opted_out),
                    "can_send_now": sms.status == SmsStatus.QUEUED,
                }
            )
    for inbound in InboundSms.objects.filter(phone_hash__in=hashes).order_by("-received_at")[: MESSAGES_PER_PHONE * 20]:
        threads[inbound.phone_hash]["items"].append({"kind": "in", "at": inbound.received_at, "inbound": inbound})
    for thread in threads.values():
        thread["items"].sort(key=lambda item: item["at"])
    return {"threads": [threads[h] for h in hashes], "page_obj": page_obj, "is_paginated": paginator.num_pages > 1}
