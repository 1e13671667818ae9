"""Menu entries and home panels of the analytics app."""

from django.utils.translation import gettext_lazy as _

from units.choices import Role
from units.navigation import HomePanel, NavItem

from . import panels
from .permissions import READ_ROLES

ANALYTICS = frozenset(READ_ROLES)

NAV_ITEMS = [
    NavItem(_("统计分析"), "analytics:dashboard", roles=ANALYTICS, order=60),
    NavItem(_("红黑榜"), "analytics:rankings", roles=ANALYTICS, order=61),
    NavItem(_("通报"), "analytics:bulletins", roles=ANALYTICS, order=62),
]

HOME_PANELS = [
    HomePanel(
        "analytics/_panel_supervisor.html",
        roles=frozenset({Role.SUPERVISOR}),
        order=5,
        context=panels.supervisor_panel,
    ),
    HomePanel(
        "analytics/_panel_satisfaction.html",
        roles=frozenset({Role.SUPERVISOR, Role.CENTER_STAFF}),
        order=31,
        context=panels.satisfaction_panel,
    ),
    HomePanel(
        "analytics/_panel_leader.html",
        roles=frozenset({Role.UNIT_LEADER}),
        order=40,
        context=panels.leader_panel,
    ),
]

# The rating figures of the surveys app's overview (回访评价), read from the kept day rows.
SURVEY_OVERVIEW_PANELS = [
    HomePanel(
        "analytics/_panel_survey_overview.html",
        roles=frozenset({Role.SUPERVISOR, Role.CENTER_STAFF}),
        order=10,
        context=panels.survey_overview_panel,
    ),
]
