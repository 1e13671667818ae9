"""Writes about units and people: notifications to staff."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from .choices import Role
from .models import Notification, Unit, User


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


def leaders_of(unit: Unit) -> list[User]:
    """The leaders of a unit (active users with the unit-leader role in that unit)."""
    return list(User.objects.filter(unit=unit, role=Role.UNIT_LEADER, is_active=True))


def supervisors() -> list[User]:
    return list(User.objects.filter(role=Role.SUPERVISOR, is_active=True))


def mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
