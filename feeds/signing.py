"""HMAC-SHA256 signatures of request bodies, the same scheme both ways.

Inbound pushes and outbound results carry ``X-Signature: sha256=<hex>``. Without a timestamp the
signed message is the raw body; with ``X-Timestamp: <unix seconds>`` it is ``<timestamp>.<body>``,
so that an old request cannot be replayed with a fresh timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
DELIVERY_ID_HEADER = "X-Delivery-Id"


def sign(secret: str, body: bytes, *, timestamp: str | None = None) -> str:
    """The value of the X-Signature header for ``body`` (and ``timestamp`` when given)."""
    message = f"{timestamp}.".encode() + body if timestamp else body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """Timestamp and signature headers for an outbound body."""
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, body, timestamp=timestamp)}


def verify(secret: str, body: bytes, signature: str, *, timestamp: str | None = None) -> bool:
    """Constant-time check of a received signature."""
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp=timestamp), signature.strip())


def timestamp_is_fresh(timestamp: str, *, max_age: int, now: float | None = None) -> bool:
    """True when ``timestamp`` (unix seconds) is within ``max_age`` seconds of now, either way."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = now if now is not None else time.time()
    return abs(current - value) <= max_age
