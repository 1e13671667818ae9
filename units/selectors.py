"""Reads about units and people."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from django.db.models import Q
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


def live_api_token(key: str) -> ApiToken | None:
    """The unexpired, unrevoked token with this key (with its user), else None."""
    return (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


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
