"""Counters for the anonymous forms, in the cache (Redis in production).

Keyed per phone hash and per device (a signed random cookie), with a generous per-IP ceiling:
a carrier NAT puts thousands of citizens behind one address, so IP alone would punish them.
The counters go through ``units.cache.soft_cache``: with Redis away every use is allowed
(logged), since refusing citizens because a helper is down would be worse than a burst of spam.
"""

from __future__ import annotations

import secrets

from django.conf import settings

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


__all__ = ["DEVICE_COOKIE", "device_of", "ensure_device", "hit", "new_device_id", "peek"]
