"""Menu entries, home panels and the appeal-page panel of the feeds app."""

from django.utils.translation import gettext_lazy as _

from units.navigation import HomePanel, NavItem

from . import panels, permissions

FEED_ROLES = frozenset(permissions.FEED_ROLES)

NAV_ITEMS = [
    NavItem(_("数据导入"), "feeds:imports", roles=FEED_ROLES, order=60),
    NavItem(_("结果回传"), "feeds:deliveries", roles=FEED_ROLES, order=61),
]

HOME_PANELS = [
    HomePanel("feeds/_panel_feeds.html", roles=FEED_ROLES, order=60, context=panels.home_panel),
]

APPEAL_PANELS = [
    HomePanel("feeds/_appeal_deliveries.html", order=40, context=panels.appeal_panel),
]
