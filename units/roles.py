"""Who is who: the one definition of each group of people the apps address or admit.

Groups of users (for notifications and assignment) and groups of roles (for permission checks)
live here so that "an administrator" or "center staff" means the same thing in every app.

* an administrator is an active user with the administrator role, or an active superuser (as
  ``User.has_role(Role.ADMIN)`` says);
* center staff (中心坐席) are active users with the center-staff role;
* the leaders of a unit are its active users with the unit-leader role;
* supervisors (督察) are active users with the supervisor role.
"""

from __future__ import annotations

from django.db.models import Q

from .choices import Role
from .models import Unit, User

# Role groups for permission checks (``user.has_role(*CENTER_ROLES)``).
CENTER_ROLES = (Role.CENTER_STAFF, Role.ADMIN)  # the center's desk: triage, dispatch, review
UNIT_ROLES = (Role.UNIT_HANDLER, Role.UNIT_LEADER)  # the people of a handling unit
OVERSIGHT_ROLES = (Role.SUPERVISOR, Role.ADMIN)  # list for supervision, publish rankings


def has_any_role(user, roles: tuple[str, ...]) -> bool:
    """Whether ``user`` is signed in and holds one of ``roles``: the role test of every app's
    ``permissions.py`` (an anonymous user or none at all holds no role)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.has_role(*roles))


def admins() -> list[User]:
    """Active administrators (the administrator role, or a superuser)."""
    return list(User.objects.filter(is_active=True).filter(Q(role=Role.ADMIN) | Q(is_superuser=True)))


def center_staff() -> list[User]:
    """Active center staff (中心坐席)."""
    return list(User.objects.filter(role=Role.CENTER_STAFF, is_active=True))


def leaders_of(unit: Unit) -> list[User]:
    """Active leaders of ``unit`` (its users with the unit-leader role)."""
    return list(User.objects.filter(unit=unit, role=Role.UNIT_LEADER, is_active=True))


def handlers_of(unit: Unit) -> list[User]:
    """Active people of ``unit`` who handle its work orders (handlers and leaders)."""
    return list(User.objects.filter(unit=unit, is_active=True, role__in=UNIT_ROLES).order_by("pk"))


def supervisors() -> list[User]:
    """Active supervisors (督察)."""
    return list(User.objects.filter(role=Role.SUPERVISOR, is_active=True))
