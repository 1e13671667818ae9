"""Who may act on the learned routing: one answer for the page (which shows its forms only to
those it lets act), its views and the menu.

The center reads the routing page and the proposal on an appeal; only administrators train a
model now and switch auto-dispatch on or off per category (it dispatches without a person).
"""

from __future__ import annotations

from units.choices import Role
from units.roles import CENTER_ROLES
from units.roles import has_any_role as _has

# 智能派单 page and the proposal panel on the appeal: the center.
VIEW_ROLES = CENTER_ROLES
# 立即训练 and 自动派单 settings.
EDIT_ROLES = (Role.ADMIN,)
# The city-wide hand-back rate on the dashboard: roles that see every unit.
CITY_ROLES = (Role.CENTER_STAFF, Role.SUPERVISOR, Role.ADMIN)


def may_view(user) -> bool:
    """The routing page: training history, acceptance, hand-back rates, the settings (read)."""
    return _has(user, VIEW_ROLES)


def may_edit(user) -> bool:
    """Train a model now; turn auto-dispatch on or off and set its threshold per category."""
    return _has(user, EDIT_ROLES)
