"""Signed QR links of rating points, their QR images, and the device key of the public form.

A link is ``/qr/<token>/`` where the token is ``"<point id>.<version>:<signature>"``, the
signature a salted HMAC-SHA256 with the secret key (truncated to 128 bits). Nobody can make a
link for another point or forge a version; rotating a point (raising its version) makes every
sticker printed before invalid.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "surveys.rating-point"
# 128 bits of HMAC-SHA256 in URL-safe base64: plenty against forgery, and a short link keeps
# the QR code coarse enough to scan from a small sticker.
_SIGNATURE_CHARS = 22


def _signature(value: str, secret: str | None = None) -> str:
    digest = salted_hmac(_SALT, value, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def token_for(point) -> str:
    """The signed token of a point's current version: ``"<id>.<version>:<signature>"``."""
    value = f"{point.pk}.{point.token_version}"
    return f"{value}:{_signature(value)}"


def _genuine(value: str, signature: str) -> bool:
    # Tokens signed with a key being retired (SECRET_KEY_FALLBACKS) stay valid until it goes.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(signature, _signature(value, secret)) for secret in secrets)


def point_for_token(token: str):
    """The active rating point a token belongs to, or None when the token is forged, tampered
    with, of a rotated (older) version, or of a point that was switched off."""
    from .models import RatingPoint

    value, _sep, signature = (token or "").partition(":")
    if not signature or not _genuine(value, signature):
        return None
    try:
        pk_text, version_text = value.split(".", 1)
        pk, version = int(pk_text), int(version_text)
    except ValueError:
        return None
    point = RatingPoint.objects.select_related("unit").filter(pk=pk, is_active=True).first()
    if point is None or point.token_version != version or not point.unit.is_active:
        return None
    return point


def rating_path(point) -> str:
    return reverse("surveys:qr_form", args=[token_for(point)])


def rating_url(point, request=None) -> str:
    """The absolute link printed in the QR code: PUBLIC_BASE_URL when set (what citizens reach
    from outside), else the host of the current request."""
    path = rating_path(point)
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


@lru_cache(maxsize=1024)  # a pure function of its arguments; lists redraw the same codes
def qr_svg(url: str, *, scale: int = 4) -> str:
    """An inline SVG of the QR code (error correction M, quiet zone of 2 modules)."""
    import segno

    code = segno.make(url, error="m", micro=False)
    return code.svg_inline(scale=scale, border=2, dark="#000", light="#fff", omitsize=True)


def device_key(device_id: str | None) -> str:
    """A keyed hash of the browser's device cookie: stored on QR ratings to fold repeats, so the
    cookie value itself is never kept."""
    if not device_id:
        return ""
    return salted_hmac("surveys.qr-device", device_id, algorithm="sha256").hexdigest()
