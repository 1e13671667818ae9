"""Writes about units and people: notifications to staff, login lockouts, API tokens, spent nonces."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ApiToken, LoginFailure, LoginLockout, Notification, UsedNonce, User
from .roles import leaders_of, supervisors  # noqa: F401 - callers in surveys import them from here
from .selectors import live_tokens, token_digest

logger = logging.getLogger(__name__)


def notify(
    *,
    users: Iterable[User],
    text: str,
    url: str = "",
    level: str = Notification.Level.INFO,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Put a message in each user's notification list; with ``dedupe_key``, at most once per user."""
    created = []
    for user in {u.pk: u for u in users if u is not None}.values():
        if dedupe_key and Notification.objects.filter(user=user, dedupe_key=dedupe_key).exists():
            continue
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(user=user, text=text[:300], url=url, level=level, dedupe_key=dedupe_key)
                )
        except IntegrityError:
            continue  # a concurrent run stored it first
    return created


def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications read (all of them, or those of ``ids``); returns how
    many changed. Only his own: another user's ids are ignored."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


# --- Login lockout ------------------------------------------------------------------------------


def _failures_since(scope: str, key: str, now: datetime) -> datetime:
    """Failures count from the start of the window, or from the end of the last lock on ``key``
    if later (the failures that caused a lock were paid for by it)."""
    since = now - timedelta(minutes=settings.AUTH_LOCKOUT_WINDOW_MINUTES)
    last = LoginLockout.objects.filter(scope=scope, key=key).order_by("-locked_at").first()
    if last is not None:
        since = max(since, last.locked_at, last.unlocked_at or last.locked_at)
    return since


def _lock_if_over(*, scope: str, key: str, failures: int, limit: int, now: datetime) -> LoginLockout | None:
    if failures < limit:
        return None
    lockout = LoginLockout.objects.create(
        scope=scope,
        key=key,
        failures=failures,
        locked_at=now,
        locked_until=now + timedelta(minutes=settings.AUTH_LOCKOUT_MINUTES),
    )
    logger.warning("login lockout: %s %s after %d failures until %s", scope, key, failures, lockout.locked_until)
    return lockout


def record_login_failure(*, username: str, address: str | None) -> LoginLockout | None:
    """Count one refused password; lock the account and/or the address when a limit is reached.

    Returns the lock created by this failure, if any. Two concurrent failures may both create a
    lock row for the same key; that is harmless (a key is locked while any of its rows is live).
    """
    now = timezone.now()
    username = username[:150]
    LoginFailure.objects.create(username=username, address=address, created_at=now)
    account = LoginFailure.objects.filter(
        username=username, created_at__gte=_failures_since(LoginLockout.Scope.ACCOUNT, username, now)
    ).count()
    lockout = _lock_if_over(
        scope=LoginLockout.Scope.ACCOUNT, key=username, failures=account, limit=settings.AUTH_LOCKOUT_FAILURES, now=now
    )
    if address:
        by_address = LoginFailure.objects.filter(
            address=address, created_at__gte=_failures_since(LoginLockout.Scope.ADDRESS, address, now)
        ).count()
        lockout = (
            _lock_if_over(
                scope=LoginLockout.Scope.ADDRESS,
                key=address,
                failures=by_address,
                limit=settings.AUTH_LOCKOUT_ADDRESS_FAILURES,
                now=now,
            )
            or lockout
        )
    return lockout


def clear_login_failures(*, username: str) -> None:
    """A right password: the account's earlier failures no longer count towards a lock."""
    LoginFailure.objects.filter(username=username[:150]).delete()


def unlock_lockout(lockout: LoginLockout, *, actor: User | None) -> bool:
    """Release a lock before its time (an administrator's decision). False if it was not live."""
    now = timezone.now()
    released = LoginLockout.objects.filter(pk=lockout.pk, unlocked_at__isnull=True, locked_until__gt=now).update(
        unlocked_at=now, unlocked_by=actor
    )
    if released:
        # Any parallel row on the same key (two failures at once) goes with it.
        LoginLockout.objects.filter(
            scope=lockout.scope, key=lockout.key, unlocked_at__isnull=True, locked_until__gt=now
        ).update(unlocked_at=now, unlocked_by=actor)
        logger.warning("login lockout released: %s %s by %s", lockout.scope, lockout.key, actor)
    lockout.refresh_from_db()
    return bool(released)


# --- API tokens -----------------------------------------------------------------------------------


def issue_api_token(*, user: User) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid for API_TOKEN_LIFETIME_HOURS; returns it and its key (shown once)."""
    key = secrets.token_hex(20)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        digest=token_digest(key),
        prefix=key[:8],
        created_at=now,
        expires_at=now + timedelta(hours=settings.API_TOKEN_LIFETIME_HOURS),
    )
    return token, key


def revoke_api_token(token: ApiToken, *, actor: User | None) -> bool:
    """Revoke a token now (by its owner or an administrator); False if it was already revoked."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    live_tokens.forget(digest=token.digest)  # stops at once here; other processes within seconds
    token.refresh_from_db()
    return bool(revoked)


# --- One-time values ------------------------------------------------------------------------------


def spend_nonce(*, purpose: str, nonce: str, expires_at: datetime) -> bool:
    """Spend a one-time value: True the first time, False ever after (until it is purged after
    ``expires_at``, when the value it guards has expired anyway). In PostgreSQL, so that it holds
    when Redis is away."""
    try:
        with transaction.atomic():
            UsedNonce.objects.create(nonce=nonce[:64], purpose=purpose, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def purge_auth_records(*, now: datetime | None = None) -> dict[str, int]:
    """Drop what no longer matters: spent nonces past their expiry, login failures older than a
    day, tokens expired or revoked more than 30 days ago. Lock rows are kept as the audit trail."""
    now = now or timezone.now()
    nonces, _ = UsedNonce.objects.filter(expires_at__lt=now).delete()
    failures, _ = LoginFailure.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    old = now - timedelta(days=30)
    tokens, _ = ApiToken.objects.filter(expires_at__lt=old).delete()
    revoked, _ = ApiToken.objects.filter(revoked_at__lt=old).delete()
    return {"nonces": nonces, "failures": failures, "tokens": tokens + revoked}
