"""Menu entries, home panels and the appeal-page panel of the work-order app."""

from django.utils.translation import gettext_lazy as _

from units.choices import Role
from units.navigation import HomePanel, NavCount, NavItem

from . import selectors
from .choices import WorkOrderStatus
from .models import WorkOrder

UNIT_ROLES = frozenset({Role.UNIT_HANDLER, Role.UNIT_LEADER})
CENTER = frozenset({Role.CENTER_STAFF, Role.ADMIN})


def awaiting_signature(user):
    """待签收 beside 工单: orders dispatched to the user's units, not signed yet (the workspace's
    "待签收" tab, same rows)."""
    if not user.has_role(*UNIT_ROLES):
        return None
    return selectors.in_tab(user, "to_sign")


def awaiting_review(user):
    """待审核: feedback the center has to review."""
    if not user.has_role(*CENTER):
        return None
    return WorkOrder.objects.visible_to(user).filter(status=WorkOrderStatus.FEEDBACK_SUBMITTED)


NAV_ITEMS = [
    NavItem(
        _("工单"),
        "workorders:workspace",
        roles=UNIT_ROLES | CENTER | {Role.SUPERVISOR},
        order=30,
        counts=(NavCount(_("待签收"), awaiting_signature),),
    ),
    NavItem(_("待审核"), "workorders:review", roles=CENTER, order=31, counts=(NavCount(_("待审核"), awaiting_review),)),
    NavItem(_("挂牌督办"), "workorders:listed", order=32),
    NavItem(_("节假日"), "workorders:calendar", roles=frozenset({Role.ADMIN}), order=950),
]

HOME_PANELS = [
    HomePanel("workorders/_panel_unit.html", roles=UNIT_ROLES, order=10, context=selectors.unit_panel),
    HomePanel(
        "workorders/_panel_center.html", roles=frozenset({Role.CENTER_STAFF}), order=20, context=selectors.center_panel
    ),
    HomePanel(
        "workorders/_panel_supervisor.html",
        roles=frozenset({Role.SUPERVISOR}),
        order=20,
        context=selectors.supervisor_panel,
    ),
    HomePanel("workorders/_panel_admin.html", roles=frozenset({Role.ADMIN}), order=50, context=selectors.admin_panel),
]

APPEAL_PANELS = [
    HomePanel("workorders/_appeal_panel.html", order=20, context=selectors.appeal_panel),
]
