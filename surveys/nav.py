"""Menu entries and home panels of the surveys app."""

from django.utils.translation import gettext_lazy as _

from units.choices import Role
from units.navigation import HomePanel, NavCount, NavItem

from .choices import CallbackStatus
from .models import Callback
from .selectors import callbacks_due_panel, qr_panel


def awaiting_callback(user):
    """待回访 beside 人工回访: callbacks nobody has reached yet."""
    if not user.has_role(Role.CENTER_STAFF):
        return None
    return Callback.objects.visible_to(user).filter(status=CallbackStatus.PENDING)


NAV_ITEMS = [
    NavItem(_("回访评价"), "surveys:overview", roles=frozenset({Role.CENTER_STAFF, Role.SUPERVISOR}), order=50),
    NavItem(
        _("人工回访"),
        "surveys:callback_desk",
        roles=frozenset({Role.CENTER_STAFF}),
        order=51,
        counts=(NavCount(_("待回访"), awaiting_callback),),
    ),
    NavItem(_("群众评价"), "surveys:rating_list", roles=frozenset({Role.UNIT_LEADER, Role.UNIT_HANDLER}), order=52),
    NavItem(
        _("评价二维码"),
        "surveys:rating_point_list",
        roles=frozenset({Role.CENTER_STAFF, Role.ADMIN, Role.UNIT_LEADER}),
        order=53,
    ),
    NavItem(_("民意调查"), "surveys:survey_list", roles=frozenset({Role.CENTER_STAFF, Role.SUPERVISOR}), order=54),
]

HOME_PANELS = [
    HomePanel(
        "surveys/_panel_callbacks.html", roles=frozenset({Role.CENTER_STAFF}), order=30, context=callbacks_due_panel
    ),
    HomePanel(
        "surveys/_panel_qr.html",
        roles=frozenset({Role.UNIT_LEADER, Role.UNIT_HANDLER}),
        order=32,
        context=qr_panel,
    ),
]
