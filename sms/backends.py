"""SMS provider backends behind one interface, selected by ``settings.SMS_BACKEND``.

A backend sends one message and answers with the provider's id and status, or raises one of
three errors: ``TransientError`` (the provider did not take it: retry later), ``PermanentError``
(it never will: mark failed) and ``AmbiguousError`` (we cannot know whether it was taken: a
timeout). An ambiguous send is resolved by asking the provider (``fetch_status``/``find_sent``);
it is sent again only after the provider said several times that it does not have it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from intake.phones import mask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    """What a backend needs to send one SMS (the phone only lives here, in memory)."""

    reference: int
    to: str
    text: str
    template_code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResult:
    sid: str
    status: str  # one of SmsStatus values: sent or delivered


class SendError(Exception):
    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = str(code or "")


class TransientError(SendError):
    """The provider did not accept the message this time; try again later. ``retry_at`` is set
    when the provider says when (a daily limit: tomorrow), else the outbox backs off."""

    def __init__(self, message: str, *, code: str = "", retry_at: dt.datetime | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_at = retry_at


class PermanentError(SendError):
    """The provider refuses this message for good (invalid number, blocked, unsubscribed).

    ``opt_out``: the number is on the provider's blacklist or unsubscribed, so it goes on our
    opt-out list too. ``alert``: the fault is ours (template not approved, signature refused) and
    every later message will fail alike, so administrators are told.
    """

    def __init__(self, message: str, *, code: str = "", opt_out: bool = False, alert: bool = False) -> None:
        super().__init__(message, code=code)
        self.opt_out = opt_out
        self.alert = alert


class AmbiguousError(SendError):
    """We do not know whether the provider accepted it (timeout after the request was sent)."""


class BaseBackend:
    name = "base"

    def sender(self) -> str:
        """The key of the rate limit (one token bucket per sender)."""
        return self.name

    def send(self, message: OutgoingMessage) -> ProviderResult:
        raise NotImplementedError

    def fetch_status(self, sid: str) -> str | None:
        """The provider's current status of a message, as an SmsStatus value (None if unknown)."""
        return None

    def find_sent(self, message: OutgoingMessage, *, since: dt.datetime) -> ProviderResult | None:
        """For reconciliation: the message if the provider has it, None only when the provider
        says for sure that it does not (a None makes the message be sent again after several such
        answers); raise when it cannot tell."""
        raise NotImplementedError

    @property
    def is_outbox(self) -> bool:
        return False


class OutboxBackend(BaseBackend):
    """Development and demo: the outbox row itself is the message; it is "delivered" at once and
    shown on the SMS simulator page. Nothing leaves the machine."""

    name = "outbox"

    def send(self, message: OutgoingMessage) -> ProviderResult:
        logger.info("SMS (outbox) #%s to %s: %s", message.reference, mask(message.to), message.text)
        return ProviderResult(sid=f"OUTBOX{message.reference:010d}", status="delivered")

    def fetch_status(self, sid: str) -> str | None:
        return "delivered"

    def find_sent(self, message: OutgoingMessage, *, since: dt.datetime) -> ProviderResult | None:
        # The outbox "sends" inside the worker: a dead worker sent nothing.
        return None

    @property
    def is_outbox(self) -> bool:
        return True


TWILIO_STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
# Twilio error codes that no retry will fix (invalid or unreachable number, unsubscribed, blocked).
TWILIO_PERMANENT_CODES = {21211, 21408, 21610, 21612, 21614, 21617, 30003, 30004, 30005, 30006, 30007}


def twilio_status(raw: str) -> str | None:
    return TWILIO_STATUS.get((raw or "").lower())


def _http_client():
    from twilio.http.http_client import TwilioHttpClient

    base = settings.TWILIO_API_BASE_URL.rstrip("/")

    class Client(TwilioHttpClient):
        """Twilio's own HTTP client; with TWILIO_API_BASE_URL, aimed at a proxy instead."""

        def request(self, method, url, *args, **kwargs):
            if base and url.startswith("https://api.twilio.com"):
                url = base + url[len("https://api.twilio.com") :]
            return super().request(method, url, *args, **kwargs)

    return Client(timeout=settings.TWILIO_TIMEOUT_SECONDS)


class TwilioBackend(BaseBackend):
    """Twilio Programmable Messaging through the official SDK (Messaging Service or a sender)."""

    name = "twilio"

    def __init__(self) -> None:
        from twilio.rest import Client

        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=_http_client())

    def sender(self) -> str:
        return f"twilio:{settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER}"

    def send(self, message: OutgoingMessage) -> ProviderResult:
        import requests
        from twilio.base.exceptions import TwilioRestException

        kwargs: dict[str, Any] = {"to": message.to, "body": message.text}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            kwargs["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            kwargs["from_"] = settings.TWILIO_FROM_NUMBER
        if settings.PUBLIC_BASE_URL:
            kwargs["status_callback"] = settings.PUBLIC_BASE_URL.rstrip("/") + "/sms/twilio/status/"
        try:
            created = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(str(exc.msg)[:300], code=exc.code or exc.status) from exc
            if exc.code in TWILIO_PERMANENT_CODES or 400 <= exc.status < 500:
                raise PermanentError(str(exc.msg)[:300], code=exc.code or exc.status) from exc
            raise TransientError(str(exc.msg)[:300], code=exc.code or exc.status) from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                # The connection was never made: the provider cannot have the message.
                raise TransientError(
                    _("无法连接短信服务商（%(e)s）。") % {"e": exc.__class__.__name__}, code="connect"
                ) from exc
            # Dropped after the request went out: it may have been accepted.
            raise AmbiguousError(_("请求发出后连接中断，无法确认服务商是否已受理。"), code="connection_lost") from exc
        except requests.exceptions.Timeout as exc:
            raise AmbiguousError(_("服务商响应超时，无法确认是否已受理。"), code="timeout") from exc
        return ProviderResult(sid=created.sid, status=twilio_status(created.status) or "sent")

    def fetch_status(self, sid: str) -> str | None:
        return twilio_status(self.client.messages(sid).fetch().status)

    def find_sent(self, message: OutgoingMessage, *, since: dt.datetime) -> ProviderResult | None:
        # Not filtered by DateSent on Twilio's side: a message still queued or scheduled there has
        # no send date yet and would be missed, and "missed" means it gets sent again. The newest
        # 50 to this phone, compared by creation time and text here, cannot miss it.
        for item in self.client.messages.list(to=message.to, limit=50):
            created = item.date_created
            if item.body == message.text and (created is None or created >= since):
                return ProviderResult(sid=item.sid, status=twilio_status(item.status) or "sent")
        return None


def _never_connected(exc: Exception) -> bool:
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError) or isinstance(exc.args[0] if exc.args else None, NewConnectionError)


# Backends by the short name stored on each outbox row (``OutboundSms.backend``) and chosen per
# template (``SmsTemplate.provider``); ``SMS_BACKEND`` may be one of these names or a dotted path.
BACKENDS = {
    "outbox": "sms.backends.OutboxBackend",
    "twilio": "sms.backends.TwilioBackend",
    "aliyun": "sms.providers.aliyun.AliyunBackend",
    "tencent": "sms.providers.tencent.TencentBackend",
}


@lru_cache(maxsize=8)
def backend_class(path: str):
    return import_string(path)


def get_backend(name: str = "") -> BaseBackend:
    """The backend called ``name`` (a key of BACKENDS), else the deployment's ``SMS_BACKEND``."""
    path = BACKENDS.get(name) or BACKENDS.get(settings.SMS_BACKEND) or settings.SMS_BACKEND
    return backend_class(path)()
