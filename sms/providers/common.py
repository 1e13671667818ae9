"""Helpers shared by the template providers: template ids and placeholders, the start of
tomorrow's sending window, what an answer code makes the outbox do (``ErrorCodes``), and telling
"never connected" from "no answer" in a network error."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping, Set
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..backends import AmbiguousError, PermanentError, TransientError


def provider_template_id(template_code: str) -> str:
    """The template code the provider approved (SmsTemplate.provider_template_id), or ""."""
    from ..models import SmsTemplate

    return SmsTemplate.objects.filter(code=template_code).values_list("provider_template_id", flat=True).first() or ""


def placeholders(text: str) -> list[str]:
    """The template's ``{name}`` placeholders in order of appearance, each once."""
    names: list[str] = []
    for _literal, name, _spec, _conv in string.Formatter().parse(text):
        if name and name not in names:
            names.append(name)
    return names


def placeholder_values(text: str, params: dict | None) -> list[tuple[str, str]]:
    """(name, value as text) of each placeholder of the template, in order ("" when not given)."""
    return [(name, str((params or {}).get(name, ""))) for name in placeholders(text)]


def next_window_tomorrow(now: dt.datetime | None = None) -> dt.datetime:
    """The start of tomorrow's sending window (a daily limit is over by then)."""
    from ..texts import next_sending_time

    local = (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE))
    midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return next_sending_time(midnight)


@dataclass(frozen=True)
class ErrorCodes:
    """A provider's answer codes and what the outbox does with each (docs/sms.md, "Error codes"):
    retry at tomorrow's window, retry later (after the given delay, or with the usual back-off when
    None), reconcile, put the number on the opt-out list, give up on this message. A code not
    listed gives up and tells the administrators: our configuration is wrong (never a retry loop).
    A code in ``alert_while_retrying`` is retried and the administrators are told, once a day, with
    ``account_alert`` (it names the code as ``%(code)s``)."""

    retry_later: Mapping[str, dt.timedelta | None]
    retry_tomorrow: Set[str]
    opt_out: Set[str]
    give_up: Set[str]
    alert_while_retrying: Set[str]
    account_alert: str
    alert_key: str  # the prefix of the alert's dedupe key
    ambiguous: Set[str] = frozenset()

    def error_for(self, code: str, message: str) -> Exception:
        """The outbox error for an answer code."""
        text = f"{code}: {message}"[:300]
        if code in self.alert_while_retrying and (code in self.retry_tomorrow or code in self.retry_later):
            from ..outbox import alert_admins

            alert_admins(
                text=str(self.account_alert) % {"code": code},
                dedupe_key=f"{self.alert_key}:{code}:{timezone.localdate()}",
            )
        if code in self.retry_tomorrow:
            return TransientError(text, code=code, retry_at=next_window_tomorrow())
        if code in self.retry_later:
            delay = self.retry_later[code]
            return TransientError(text, code=code, retry_at=timezone.now() + delay if delay else None)
        if code in self.ambiguous:
            return AmbiguousError(text, code=code)
        if code in self.opt_out:
            return PermanentError(text, code=code, opt_out=True)
        if code in self.give_up:
            return PermanentError(text, code=code)
        return PermanentError(text, code=code, alert=True)


def _chain(exc: BaseException):
    seen = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(
            [getattr(current, "inner_exception", None), current.__cause__, current.__context__]
            + [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
        )


def network_failure(exc: BaseException) -> tuple[bool, str]:
    """(the connection was never made, a short description). The SDKs wrap the HTTP library's
    error in their own; the original is found along the chain of causes."""
    import requests
    from urllib3.exceptions import NewConnectionError

    for current in _chain(exc):
        if isinstance(current, (requests.exceptions.ConnectTimeout, NewConnectionError, ConnectionRefusedError)):
            return True, current.__class__.__name__
        if isinstance(current, requests.exceptions.ConnectionError):
            reason = getattr(current.args[0], "reason", None) if current.args else None
            if isinstance(reason, NewConnectionError) or any(isinstance(a, NewConnectionError) for a in current.args):
                return True, current.__class__.__name__
    for current in _chain(exc):
        if isinstance(current, requests.exceptions.RequestException):
            return False, current.__class__.__name__
    return False, exc.__class__.__name__


def check_template_params(values: list[tuple[str, str]], *, limit: int, provider: str) -> None:
    """The rule both mainland providers set for template variables: every variable has a value of
    at most ``limit`` characters and holds no link (a link belongs in the approved template)."""
    errors = []
    for name, value in values:
        if not value:
            errors.append(
                _("参数 %(name)s 不能为空（%(provider)s要求每个变量都有值）。") % {"name": name, "provider": provider}
            )
        elif len(value) > limit:
            errors.append(
                _("参数 %(name)s 共%(n)d字，超过%(provider)s模板变量上限%(max)d字。")
                % {"name": name, "n": len(value), "max": limit, "provider": provider}
            )
        elif "://" in value or value.lower().startswith("www."):
            errors.append(
                _("参数 %(name)s 含网址，%(provider)s模板变量不允许网址。") % {"name": name, "provider": provider}
            )
    if errors:
        raise ValidationError(errors)
