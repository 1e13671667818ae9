"""The cache as a helper, never a gate (ARCHITECTURE rule 14).

Throttles, rate limits, single-use captcha claims and import progress keep counters in the cache
(Redis in production). When the cache server is away they fail open: each call answers as if the
counter were fresh, so a platform's push, a citizen's letter or a staff login still goes through
while the database, which holds everything that matters, keeps working. The first failure is
logged as a warning, then at most one warning a minute (with the count of failures in between),
so an outage does not flood the logs.

Every such site uses ``soft_cache`` instead of ``django.core.cache.cache``; DRF throttles get it
through their ``cache`` attribute (``FailOpenThrottleMixin``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT

logger = logging.getLogger(__name__)

T = TypeVar("T")

try:  # redis-py raises its own errors, none of which derive from OSError
    from redis.exceptions import RedisError

    CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)
except ImportError:  # pragma: no cover - redis is a dependency, but the file cache needs no server
    CACHE_ERRORS = (OSError,)

WARN_INTERVAL = 60.0  # seconds between two warnings about the same outage

_lock = threading.Lock()
_last_warning = float("-inf")
_suppressed = 0


def _warn(operation: str, exc: BaseException) -> None:
    global _last_warning, _suppressed
    now = time.monotonic()
    with _lock:
        if now - _last_warning < WARN_INTERVAL:
            _suppressed += 1
            return
        _last_warning, suppressed, _suppressed = now, _suppressed, 0
    logger.warning(
        "Cache unavailable (%s on %s): failing open, throttles and rate limits are off until it returns "
        "(%d more failures since the last warning).",
        exc.__class__.__name__,
        operation,
        suppressed,
    )


def _guard(operation: str, call: Callable[[], T], fallback: T) -> T:
    try:
        return call()
    except CACHE_ERRORS as exc:
        _warn(operation, exc)
        return fallback


class FailOpenCache:
    """The default cache with the server's errors turned into a logged fallback value.

    ``incr`` of a missing key still raises ``ValueError`` (that is the cache answering, not
    failing); it answers ``None`` when the server is away.
    """

    def get(self, key: str, default: Any = None) -> Any:
        return _guard("get", lambda: cache.get(key, default), default)

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        _guard("set", lambda: cache.set(key, value, timeout), None)

    def add(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT) -> bool:
        """True when the key was added; also True when the server is away (the caller goes on)."""
        return _guard("add", lambda: cache.add(key, value, timeout), True)

    def incr(self, key: str, delta: int = 1) -> int | None:
        return _guard("incr", lambda: cache.incr(key, delta), None)

    def delete(self, key: str) -> None:
        _guard("delete", lambda: cache.delete(key), None)

    def take(self, key: str, *, limit: int, period: float) -> float:
        """Take one request of ``limit`` per ``period`` seconds for ``key``: 0 when it is allowed,
        else the seconds until the next one would be. 0 when the server is away (fail open).

        A generic cell rate (GCRA): ``limit`` requests at once from rest, then one every
        ``period / limit`` seconds, whatever the window boundaries. The key holds one number
        (the theoretical arrival time), so a request costs one Redis round trip (one script, on
        Redis's own clock, shared by every web host) however busy the key is; a list of recent
        request times, as DRF's SimpleRateThrottle keeps, grows with the rate.
        """
        return _guard("take", lambda: _take(key, limit=limit, period=period), 0.0)


soft_cache = FailOpenCache()

# KEYS[1]: the key; ARGV: emission interval and burst tolerance, in microseconds. Answers the wait
# in microseconds (0: allowed and counted).
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local allowed_at = tat + interval - burst
if now < allowed_at then
  return allowed_at - now
end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((tat + interval - now) / 1000) + 1)
return 0
"""
_scripts: dict[str, Any] = {}
# One redis-py client per connection pool, kept for the process: Django's RedisCache builds a new
# client object (with its table of ~170 reply callbacks) for every call, which cost the feed push
# about as much CPU as the round trip itself. A client is thread-safe; the pool stays Django's, so
# a changed CACHES setting (a new pool) gets a new client.
_clients: dict[int, tuple[Any, Any]] = {}
MAX_KEPT_CLIENTS = 32


def redis_client(backend, full_key: str):
    """The redis-py client of ``backend`` (Django's ``RedisCacheClient``) for writing ``full_key``,
    built once per connection pool."""
    pool_for = getattr(backend, "_get_connection_pool", None)
    if pool_for is None or not hasattr(backend, "_client"):
        return backend.get_client(full_key, write=True)
    pool = pool_for(True)
    kept = _clients.get(id(pool))
    if kept is None or kept[0] is not pool:
        if len(_clients) >= MAX_KEPT_CLIENTS:  # pools of threads long gone (each thread has its caches)
            _clients.clear()
        kept = _clients[id(pool)] = (pool, backend._client(connection_pool=pool))
    return kept[1]


def _take(key: str, *, limit: int, period: float) -> float:
    interval = int(period * 1_000_000 / limit)
    burst = interval * limit
    backend = getattr(cache, "_cache", None)
    if hasattr(backend, "get_client") and hasattr(cache, "make_and_validate_key"):  # Django's RedisCache
        full_key = cache.make_and_validate_key(key)
        client = redis_client(backend, full_key)
        script = _scripts.get("gcra")
        if script is None:
            script = _scripts["gcra"] = client.register_script(_GCRA)
        return int(script(keys=[full_key], args=[interval, burst], client=client)) / 1_000_000
    # Other caches (the file cache of a development machine): the same rule, not atomic.
    now = int(time.time() * 1_000_000)
    stored = cache.get(key)
    tat = max(stored if isinstance(stored, int) else now, now)
    if now < tat + interval - burst:
        return (tat + interval - burst - now) / 1_000_000
    cache.set(key, tat + interval, timeout=(tat + interval - now) / 1_000_000 + 1)
    return 0.0


class FailOpenThrottleMixin:
    """Put first in a DRF throttle's bases: its history lives in ``soft_cache``, so a cache outage
    lets requests through instead of answering 500.

    The rates are read from the settings when a throttle is made, not when its class is imported
    (DRF copies ``DEFAULT_THROTTLE_RATES`` into a class attribute once): a changed setting (a
    test's override, a reloaded configuration) takes effect and ends with it, and nothing has to
    be written onto the class, where it would outlive the change.
    """

    cache = soft_cache

    @property
    def THROTTLE_RATES(self):  # the name DRF's SimpleRateThrottle reads
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_THROTTLE_RATES


__all__ = ["CACHE_ERRORS", "FailOpenCache", "FailOpenThrottleMixin", "soft_cache"]
