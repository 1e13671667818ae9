"""Menu entries and home panels of the units app."""

from django.utils.translation import gettext_lazy as _

from .choices import Role
from .navigation import HomePanel, NavCount, NavItem
from .selectors import unit_overview, unread_notifications, urgent_unread_notifications

NAV_ITEMS = [
    NavItem(_("首页"), "home", order=0),
    NavItem(
        _("消息"),
        "units:notifications",
        order=5,
        counts=(
            NavCount(_("未读"), unread_notifications, key="unread"),
            NavCount(_("紧急"), urgent_unread_notifications, urgent=True, key="urgent"),
        ),
    ),
    NavItem(_("单位"), "units:list", order=900),
    NavItem(_("系统管理"), "admin:index", roles=frozenset({Role.ADMIN}), order=999),
]

HOME_PANELS = [
    HomePanel("units/_panel_my_unit.html", order=1000, context=unit_overview),
]
