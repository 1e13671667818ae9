"""The routing page in the menu and the proposal panel on the appeal page."""

from django.utils.translation import gettext_lazy as _

from units.navigation import HomePanel, NavItem

from .permissions import CITY_ROLES, VIEW_ROLES

CENTER = frozenset(VIEW_ROLES)
CITY = frozenset(CITY_ROLES)


def appeal_proposal(request, appeal) -> dict:
    """The model's and the rules' proposal, for the center while the appeal waits for dispatch."""
    from .services import propose

    if appeal.status in ("closed", "merged", "dispatched"):
        return {"appeal": appeal, "proposal": None}
    return {"appeal": appeal, "proposal": propose(appeal)}


NAV_ITEMS = [NavItem(_("智能派单"), "routing:overview", roles=CENTER, order=940)]

# Shown just before the work-order panel (order 20) and its dispatch form.
APPEAL_PANELS = [HomePanel("routing/_appeal_panel.html", roles=CENTER, order=19, context=appeal_proposal)]


def dashboard_handback(request, period) -> dict:
    """退单率 per month, before and after the first model went live (kept monthly rows)."""
    from .selectors import handback_before_after

    return handback_before_after()


DASHBOARD_PANELS = [HomePanel("routing/_dashboard_handback.html", roles=CITY, order=20, context=dashboard_handback)]
