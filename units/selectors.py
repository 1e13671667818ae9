"""Reads about units and people."""

from __future__ import annotations

import hashlib

from django.db.models import Q
from django.utils import timezone

from .models import ApiToken, LoginLockout, Unit, User


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
