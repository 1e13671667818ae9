"""Counters for the anonymous forms, in the cache (Redis in production).

Keyed per phone hash and per device (a signed random cookie), with a generous per-IP ceiling:
a carrier NAT puts thousands of citizens behind one address, so IP alone would punish them.
The counters go through ``units.cache.soft_cache``: with Redis away every use is allowed
(logged), since refusing citizens because a helper is down would be worse than a burst of spam.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils.translation import gettext as _

from units.cache import soft_cache

DEVICE_COOKIE = "oc_device"
_DEVICE_SALT = "intake.device"


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one use of ``key`` in a fixed window; False when this use goes over ``limit``."""
    cache_key = f"intake:rl:{key}"
    soft_cache.add(cache_key, 0, window)
    try:
        count = soft_cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        soft_cache.set(cache_key, 1, window)
        count = 1
    return count is None or count <= limit  # None: the cache is away, fail open


def peek(key: str) -> int:
    return soft_cache.get(f"intake:rl:{key}", 0)


def track_refusal(*, code: str, address: str, device: str) -> str | None:
    """Why a ``/track/`` look-up is refused (a Chinese sentence for a 429), or None to go ahead.

    Guessing a code + phone is limited three ways: per code (too many wrong phones lock the code
    for a while, from any address), per client address (a fresh cookie per guess changes nothing)
    and per device. The look-up itself is counted against the address and the device; a failed
    one is counted against the code by ``count_track_failure``.
    """
    if peek(f"track:code-failures:{code}") >= settings.INTAKE_TRACK_FAILURES_PER_CODE:
        return _("该查询码错误次数过多，已暂时锁定，请 %(minutes)s 分钟后再试。") % {
            "minutes": max(1, settings.INTAKE_TRACK_CODE_LOCK_SECONDS // 60)
        }
    if not hit(f"track:ip:{address}", limit=settings.INTAKE_TRACK_PER_IP_PER_HOUR, window=3600):
        return _("该网络地址查询次数过多，请一小时后再试。")
    if not hit(f"track:device:{device}", limit=settings.INTAKE_TRACK_PER_DEVICE_PER_HOUR, window=3600):
        return _("查询过于频繁，请稍后再试。")
    return None


def count_track_failure(code: str) -> None:
    """One wrong code + phone pair for ``code``; enough of them lock the code (``track_refusal``)."""
    hit(
        f"track:code-failures:{code}",
        limit=settings.INTAKE_TRACK_FAILURES_PER_CODE,
        window=settings.INTAKE_TRACK_CODE_LOCK_SECONDS,
    )


def device_of(request) -> str | None:
    """The device id of the browser, when its signed cookie is present and genuine."""
    return request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=_DEVICE_SALT)


def ensure_device(request, response, device: str | None = None) -> str:
    """Give the browser a device id cookie (one year) unless it has one; returns the id."""
    device = device or device_of(request) or secrets.token_urlsafe(16)
    # Secure like the session cookie: https only in production.
    response.set_signed_cookie(
        DEVICE_COOKIE,
        device,
        salt=_DEVICE_SALT,
        max_age=365 * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return device


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


__all__ = [
    "DEVICE_COOKIE",
    "count_track_failure",
    "device_of",
    "ensure_device",
    "hit",
    "new_device_id",
    "peek",
    "track_refusal",
]
