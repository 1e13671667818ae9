"""Who may act in the SMS layer: one answer for the services (which refuse with
``PermissionDenied``), the pages (which show a button only when its action is allowed) and the
admin.

The outbox is the center's to read; re-sending a message flagged for reconciliation, the opt-out
list and the simulator (which answers SMS as any citizen) are the administrators'.
"""

from __future__ import annotations

from units.choices import Role
from units.roles import CENTER_ROLES
from units.roles import has_any_role as _has

# 外发短信: the center's outbox list and its export.
OUTBOX_ROLES = CENTER_ROLES
# 重新发送, 退订名单, 短信模拟器.
ADMIN_ROLES = (Role.ADMIN,)


def may_read_outbox(user) -> bool:
    """外发短信 and its export."""
    return _has(user, OUTBOX_ROLES)


def may_requeue(user, sms=None) -> bool:
    """重新发送 a message the provider was asked about and did not send; on a given message only
    while it waits for that check (``needs_reconciliation``)."""
    return _has(user, ADMIN_ROLES) and (sms is None or bool(sms.needs_reconciliation))


def may_manage_opt_outs(user) -> bool:
    """退订名单: add a phone by hand, lift an opt-out."""
    return _has(user, ADMIN_ROLES)


def may_use_simulator(user) -> bool:
    """短信模拟器 (when it is switched on, ``views.simulator_allowed``): answer as a citizen."""
    return _has(user, ADMIN_ROLES)
