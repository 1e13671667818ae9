"""Who may act on alerts: one answer for the services (which refuse with ``PermissionDenied``),
the staff pages (which show a move's button only when it is allowed) and the API.

Each ``may_*`` looks at the user's role and at whether he sees the alert (its unit is his or below
it); whether the alert's state allows the move is the transition table's business
(``choices.MOVES``, refused with ``units.errors.Refused``). ``offered_moves`` combines the two for
the buttons of the alert page.
"""

from __future__ import annotations

from units.choices import Role
from units.roles import has_any_role as _has

from .choices import AlertState

# 预警 (list, page, 已查看): the center, supervisors, administrators and the units' leaders.
READERS = (Role.CENTER_STAFF, Role.SUPERVISOR, Role.ADMIN, Role.UNIT_LEADER)
# 已处置: the center and the leaders of the alert's units.
HANDLERS = (Role.CENTER_STAFF, Role.ADMIN, Role.UNIT_LEADER)
# 挂牌督办: as for listing a work order (``workorders.permissions.may_list``).
LISTERS = (Role.SUPERVISOR, Role.ADMIN)


def _sees(user, alert) -> bool:
    from .models import Alert

    return Alert.objects.visible_to(user).filter(pk=alert.pk).exists()


def may_read(user) -> bool:
    """The alert list, an alert's page and the alerts of the API (which alerts: ``visible_to``)."""
    return _has(user, READERS)


def may_mark_seen(user, alert) -> bool:
    """已查看: anyone who may read the alert."""
    return may_read(user) and _sees(user, alert)


def may_handle(user, alert) -> bool:
    """已处置 (with a note): the center and the leaders of the units that see the alert."""
    return _has(user, HANDLERS) and _sees(user, alert)


def may_list(user, alert) -> bool:
    """挂牌督办: supervisors and administrators."""
    return _has(user, LISTERS) and _sees(user, alert)


def offered_moves(user, alert) -> dict[str, bool]:
    """The buttons of the alert page: a move is offered when the user may make it and the alert's
    state allows it (listing once only)."""
    return {
        "can_see": alert.state == AlertState.NEW and may_mark_seen(user, alert),
        "can_handle": alert.is_open and may_handle(user, alert),
        "can_list": not alert.is_listed and may_list(user, alert),
    }
