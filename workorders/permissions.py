"""Who may act on work orders: one answer for the services (which refuse with ``PermissionDenied``),
the views and templates (which show a button only when its action is allowed) and the API.

Each ``may_*`` takes the acting user (and the order when the answer depends on it) and looks at
roles and at the user's place in the unit tree, not at the order's status: whether the status
allows a move is the transition table's business, and ``services.allowed_actions`` combines the
two for the buttons of the moves.
"""

from __future__ import annotations

from units.choices import Role
from units.roles import CENTER_ROLES, OVERSIGHT_ROLES
from units.roles import has_any_role as _has

# Who makes a move of the table (``services.MOVES``): the lead unit's people, its leaders, the center.
BY_UNIT, BY_LEADER, BY_CENTER = "unit", "leader", "center"

CONSULT_ROLES = (Role.CENTER_STAFF, Role.SUPERVISOR, Role.ADMIN, Role.UNIT_LEADER)


def may_dispatch(user) -> bool:
    """派单 and 重新派单 of an appeal: the center (staff and administrators)."""
    return _has(user, CENTER_ROLES)


def may_review(user) -> bool:
    """The center's side of an order: review the feedback, decide extensions, answer and close."""
    return _has(user, CENTER_ROLES)


def is_lead_unit_user(user, order) -> bool:
    """A handler or leader of the order's lead unit or of a unit above it."""
    if user is None or not getattr(user, "is_unit_user", False) or user.unit_id is None:
        return False
    return order.unit.is_under(user.unit)


def may_move(user, order, by: str) -> bool:
    """May ``user`` make a move done ``by`` the unit, its leaders or the center on ``order``?"""
    if by == BY_CENTER:
        return may_review(user)
    if not is_lead_unit_user(user, order):
        return False
    return by == BY_UNIT or user.role == Role.UNIT_LEADER


def may_sub_dispatch(user, order) -> bool:
    """转派下级单位: a leader of the lead unit (or of a unit above it)."""
    return is_lead_unit_user(user, order) and user.role == Role.UNIT_LEADER


def may_list(user) -> bool:
    """挂牌督办 and 撤销挂牌: supervisors and administrators."""
    return _has(user, OVERSIGHT_ROLES)


def may_consult(user) -> bool:
    """记录会商 (a joint decision of several departments)."""
    return _has(user, CONSULT_ROLES)


def may_edit_calendar(user) -> bool:
    """节假日: administrators enter and correct holidays and make-up working days."""
    return _has(user, (Role.ADMIN,))
