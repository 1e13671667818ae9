"""Who may act in the analytics app: one answer for the services (which refuse with
``PermissionDenied``), the pages (which show a button only when its action is allowed) and the API.

What a user reads is bounded by ``visible_to(user)`` (a unit leader sees his subtree's figures);
whether a ranking may still be computed or published (a published month is frozen, an unfinished
month cannot be published) is the services' business, refused with ``units.errors.Refused``.
"""

from __future__ import annotations

from units.choices import Role
from units.roles import OVERSIGHT_ROLES
from units.roles import has_any_role as _has

# 统计分析, 红黑榜, 通报: read by the center, supervisors, administrators and unit leaders.
READ_ROLES = (Role.SUPERVISOR, Role.CENTER_STAFF, Role.ADMIN, Role.UNIT_LEADER)
# 计算红黑榜 and 生成通报: the center, supervisors and administrators.
COMPUTE_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.CENTER_STAFF)
# 发布红黑榜 (a published month is frozen): supervisors and administrators.
PUBLISH_ROLES = OVERSIGHT_ROLES


def may_read(user) -> bool:
    """The dashboard, the red/black lists, the bulletins and their exports."""
    return _has(user, READ_ROLES)


def may_compute(user) -> bool:
    """Compute (or recompute) a month's draft red/black list; generate a bulletin."""
    return _has(user, COMPUTE_ROLES)


def may_publish(user) -> bool:
    """Publish (freeze) a month's red/black list."""
    return _has(user, PUBLISH_ROLES)
