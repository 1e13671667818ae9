"""Authentication, permission and throttling for platform pushes (``/api/v1/feeds/…``).

Reusable by every feed endpoint: set on the view

    authentication_classes = [FeedKeyAuthentication]
    permission_classes = [FeedSourcePermission]
    throttle_classes = [FeedSourceThrottle]
    feed_kind = FeedKind.SERVICE_RECORDS      # the kind of source allowed
    feed_source_code = "service-records"      # or leave None and take it from the URL's ``source``

After authentication ``request.auth`` is the ``FeedSource`` and ``request.user`` is an
``AnonymousUser``: a push acts for a platform, never for a member of staff, so services get
``actor=None`` and record the source instead.
"""

from __future__ import annotations

import copy
import time

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from units.cache import FailOpenThrottleMixin
from units.memo import ProcessCache
from units.parsers import RequestTooLarge

from . import signing
from .models import FeedSource, hash_key


def _active_sources() -> dict[str, FeedSource]:
    return {source.key_hash: source for source in FeedSource.objects.filter(is_active=True).exclude(key_hash="")}


# The active sources by their key's hash (a handful of rows), kept per process: every push asks.
# A key replaced or a source switched off stops working at once in the process that saved it and
# within seconds (units.memo.MAX_AGE_SECONDS) in every other one.
active_sources = ProcessCache("feed-sources", _active_sources).watch(FeedSource)


def source_for_key(key: str) -> FeedSource | None:
    """The active source whose key this is, or None (a copy: callers may change what they got)."""
    if not key:
        return None
    source = active_sources.get().get(hash_key(key))
    return copy.copy(source) if source is not None else None


def check_signature(source: FeedSource, request) -> None:
    """Refuse a push whose body is not signed with the source's secret (when it has one).

    No signature at all answers 401; a wrong or stale one answers 403.
    """
    if not source.hmac_secret:
        return
    meta = request.META
    signature = meta.get("HTTP_X_SIGNATURE", "")
    timestamp = meta.get("HTTP_X_TIMESTAMP", "") or None
    if not signature:
        raise exceptions.NotAuthenticated(_("该来源要求请求签名（X-Signature）。"))
    if source.require_timestamp and not timestamp:
        raise exceptions.NotAuthenticated(_("该来源要求请求时间戳（X-Timestamp）。"))
    if timestamp and not signing.timestamp_is_fresh(
        timestamp, max_age=settings.FEED_SIGNATURE_MAX_AGE, now=time.time()
    ):
        raise exceptions.PermissionDenied(_("请求时间戳已过期或无效，疑似重放，已拒绝。"))
    try:
        body = request._request.body  # the raw bytes, before any parsing
    except RequestDataTooBig as exc:
        # units.middleware refuses a declared oversized body first; this is for one that lied.
        raise RequestTooLarge() from exc
    if not signing.verify(source.hmac_secret, body, signature, timestamp=timestamp):
        raise exceptions.PermissionDenied(_("请求签名不正确。"))


class FeedKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` → ``request.auth`` is the FeedSource, the user is anonymous."""

    keyword = "bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为：Bearer <密钥>。"))
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("密钥无效或已停用。")) from exc
        source = source_for_key(key)
        if source is None:
            raise exceptions.AuthenticationFailed(_("密钥无效或已停用。"))
        check_signature(source, request)
        return AnonymousUser(), source

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="feeds"'


class FeedSourcePermission(BasePermission):
    """The key's source is the one the URL (or the view) names, and of the view's ``feed_kind``."""

    message = _("该密钥不能用于此数据来源。")

    def has_permission(self, request, view) -> bool:
        source = request.auth
        if not isinstance(source, FeedSource):
            # DRF answers 401 (with WWW-Authenticate) when no authenticator accepted the request.
            raise exceptions.NotAuthenticated(_("缺少有效的来源密钥（Authorization: Bearer <密钥>）。"))
        expected_code = getattr(view, "feed_source_code", None) or view.kwargs.get("source")
        if expected_code and source.code != expected_code:
            return False
        expected_kind = getattr(view, "feed_kind", None)
        return not expected_kind or source.kind == expected_kind


class FeedSourceThrottle(FailOpenThrottleMixin, SimpleRateThrottle):
    """Rate per source (``DEFAULT_THROTTLE_RATES["feed"]``), so one noisy platform cannot starve others.

    Counted in ``soft_cache`` by ``take``: one number per source and one Redis round trip per
    push at any rate (the rate allows its count at once, then evenly spread); beyond it 429 with
    ``Retry-After``, the seconds until the next push would be taken. With Redis away pushes are
    let through rather than refused.
    """

    scope = "feed"
    _wait = 0.0

    def get_cache_key(self, request, view):
        source = request.auth
        if not isinstance(source, FeedSource):
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"source-{source.pk}"}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self._wait = self.cache.take(key, limit=self.num_requests, period=self.duration)
        return self._wait <= 0

    def wait(self) -> float:
        return self._wait
