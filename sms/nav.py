"""Menu entries of the SMS layer (administrators)."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from units.choices import Role
from units.navigation import NavItem

NAV_ITEMS = [
    NavItem(_("退订名单"), "sms:optouts", roles=frozenset({Role.ADMIN}), order=950),
]
if settings.SMS_SIMULATOR_ENABLED:
    NAV_ITEMS.append(NavItem(_("短信模拟器"), "sms:simulator", roles=frozenset({Role.ADMIN}), order=960))
