"""Who may act on appeals: one answer for the views and templates (a button is shown exactly when
its action is allowed), the API (``api.views.TriageRole``) and the services that check it.

Roles and visibility only; whether the appeal's status allows a move is the transition table's
business (``services.ALLOWED_MOVES``), which refuses with ``units.errors.Refused``.
"""

from __future__ import annotations

from units.choices import Role
from units.roles import CENTER_ROLES
from units.roles import has_any_role as _has

# 研判, 标记待派单, 合并, 答复并办结, 热线登记: the center's desk.
TRIAGE_ROLES = CENTER_ROLES
# Every staff role reads the desk and the appeals of the units it sees.
DESK_ROLES = (Role.CENTER_STAFF, Role.ADMIN, Role.SUPERVISOR, Role.UNIT_LEADER, Role.UNIT_HANDLER)


def may_triage(user, appeal=None) -> bool:
    """研判 and the other desk actions; on a given appeal only while it is open."""
    return _has(user, TRIAGE_ROLES) and (appeal is None or appeal.is_open)


def may_read(user) -> bool:
    """The desk and the appeal page (which appeals: ``Appeal.objects.visible_to``)."""
    return _has(user, DESK_ROLES)


def may_reveal_phone(user, appeal) -> bool:
    """查看完整号码 (with a reason, logged): staff who may see the appeal."""
    from .models import Appeal

    return may_read(user) and Appeal.objects.visible_to(user).filter(pk=appeal.pk).exists()


def may_read_reveal_log(user) -> bool:
    """号码查看记录: administrators."""
    return _has(user, (Role.ADMIN,))
