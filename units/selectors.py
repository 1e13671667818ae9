"""Reads about units and people."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils import timezone

from .models import ApiToken, LoginLockout, Notification, Unit, User


def unit_overview(request) -> dict:
    """The user's own unit, its parent chain and how many units he sees."""
    user: User = request.user
    visible = Unit.objects.visible_to(user)
    return {
        "unit": user.unit,
        "unit_chain": user.unit.ancestors if user.unit else [],
        "visible_unit_count": visible.count(),
    }


def unit_tree(user: User) -> list[tuple[Unit, int]]:
    """Visible units in tree order, each with its depth for indentation."""
    units = list(Unit.objects.visible_to(user).filter(is_active=True))
    base = min((u.path.count("/") for u in units), default=0)
    return [(u, u.path.count("/") - base) for u in units]


def active_lockout(*, username: str, address: str | None) -> LoginLockout | None:
    """The live lock on this account or this client address (the one that ends last), if any."""
    match = Q(scope=LoginLockout.Scope.ACCOUNT, key=username[:150])
    if address:
        match |= Q(scope=LoginLockout.Scope.ADDRESS, key=address)
    return (
        LoginLockout.objects.filter(match, locked_until__gt=timezone.now(), unlocked_at__isnull=True)
        .order_by("-locked_until")
        .first()
    )


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class _LiveTokens:
    """The tokens this process authenticated lately, by digest, each with its user: a staff
    create or a list read with a token no longer reads the token and the user for every request.

    An entry is used for at most ``units.memo.MAX_AGE_SECONDS`` (5 s), then read again: a token
    revoked or a user deactivated in another process stops working there within seconds. In this
    process it stops at once: ``services.revoke_api_token`` forgets the token, and a save or delete
    of a token or a user (the admin, a deactivation) forgets that user's entries. Expiry is checked
    on every use. Each request gets its own copies, so nothing one request sets on its user is
    seen by another.
    """

    MAX_ENTRIES = 1024

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, ApiToken]] = {}

    def get(self, digest: str) -> ApiToken | None:
        from . import memo

        entry = self._entries.get(digest)
        if entry is None or memo._clock() - entry[0] >= memo.MAX_AGE_SECONDS:
            return None
        return entry[1]

    def keep(self, digest: str, token: ApiToken) -> None:
        from . import memo

        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (memo._clock(), token)

    def forget(self, *, digest: str | None = None, user_id: int | None = None) -> None:
        if digest is not None:
            self._entries.pop(digest, None)
        if user_id is not None:
            for key, (_at, token) in list(self._entries.items()):
                if token.user_id == user_id:
                    self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


live_tokens = _LiveTokens()


def live_api_token(key: str) -> ApiToken | None:
    """The unexpired, unrevoked token with this key (with its user, a copy of its own), else None."""
    import copy

    from django.db import connection

    digest = token_digest(key)
    token = live_tokens.get(digest)
    if token is None:
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=digest, revoked_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if token is None:
            return None
        if not connection.in_atomic_block:  # nothing read from a transaction that may roll back
            live_tokens.keep(digest, token)
    if not token.is_live:
        live_tokens.forget(digest=digest)
        return None
    mine = copy.copy(token)
    mine.user = copy.copy(token.user)
    return mine


def _forget_tokens_of(sender, instance, **kwargs) -> None:
    live_tokens.forget(user_id=instance.pk if sender is User else instance.user_id)


post_migrate.connect(lambda **kwargs: live_tokens.clear(), dispatch_uid="live-tokens-migrate", weak=False)
for _model in (ApiToken, User):
    post_save.connect(_forget_tokens_of, sender=_model, dispatch_uid=f"live-tokens-{_model.__name__}")
    post_delete.connect(_forget_tokens_of, sender=_model, dispatch_uid=f"live-tokens-del-{_model.__name__}")


# --- Notifications ------------------------------------------------------------------------------

NOTIFICATION_PAGE_SIZE = 50
PINNED_URGENT = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def notification_cursor(note: Notification) -> str:
    """The keyset position of a notification: microseconds since the epoch and the id ("<µs>_<id>",
    nothing a URL needs to escape)."""
    micros = (note.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{note.pk}"


def parse_notification_cursor(raw: str) -> tuple[datetime, int] | None:
    """The position in a cursor; None for none; ValueError for a malformed one."""
    if not raw:
        return None
    micros, _sep, pk = raw.partition("_")
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


def notification_page(
    user: User, *, level: str = "", before: tuple[datetime, int] | None = None, size: int = NOTIFICATION_PAGE_SIZE
) -> dict:
    """One page of the user's notifications, newest first, of one level or all, after a keyset
    position; ``next`` is the cursor of the following page (None on the last)."""
    qs = Notification.objects.filter(user=user)
    if level:
        qs = qs.filter(level=level)
    if before is not None:
        created_at, pk = before
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    rows = list(qs.order_by("-created_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {"items": rows, "next": notification_cursor(rows[-1]) if more else None}


def pinned_urgent(user: User, *, limit: int = PINNED_URGENT) -> list[Notification]:
    """The newest urgent notifications the user has not read yet (pinned on his home page)."""
    return list(
        Notification.objects.filter(user=user, read_at__isnull=True, level=Notification.Level.ALERT).order_by(
            "-created_at", "-id"
        )[:limit]
    )


def unread_notifications(user: User):
    """Rows behind the menu's unread badge (counted bounded, with the other menu counts)."""
    return Notification.objects.filter(user=user, read_at__isnull=True)


def urgent_unread_notifications(user: User):
    return unread_notifications(user).filter(level=Notification.Level.ALERT)
