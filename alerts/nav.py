"""Menu entry and home-page panel of the early-warning app."""

from django.utils.translation import gettext_lazy as _

from units.navigation import HomePanel, NavCount, NavItem

from . import permissions, selectors
from .choices import AlertState
from .models import Alert

READERS = frozenset(permissions.READERS)


def new_alerts(user):
    """新预警 beside 预警: alerts nobody has looked at yet, in the user's units."""
    if not permissions.may_read(user):
        return None
    return Alert.objects.visible_to(user).filter(state=AlertState.NEW)


NAV_ITEMS = [
    NavItem(
        _("预警"), "alerts:list", roles=READERS, order=33, counts=(NavCount(_("新预警"), new_alerts, urgent=True),)
    ),
]

HOME_PANELS = [
    HomePanel("alerts/_panel.html", roles=READERS, order=15, context=selectors.home_panel),
]

# The dashboard (统计分析) shows the period's alerts to the same readers; a generated bulletin
# keeps them as a section (context: the bulletin's period; JSON kept in the bulletin).
DASHBOARD_PANELS = [
    HomePanel("alerts/_dashboard.html", roles=READERS, order=10, context=selectors.dashboard_panel),
]
BULLETIN_SECTIONS = [
    HomePanel("alerts/_bulletin.html", order=10, context=selectors.bulletin_section),
]
