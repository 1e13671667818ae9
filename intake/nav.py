"""Menu entries and panels of the intake app."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from units.choices import Role
from units.navigation import HomePanel, NavCount, NavItem

from .choices import AppealStatus
from .models import Appeal
from .selectors import recent_counts

CENTER = frozenset({Role.CENTER_STAFF, Role.ADMIN})


def desk_panel(request) -> dict:
    return {"counts": recent_counts(request.user), "desk_url": reverse("intake:desk")}


def reveals_panel(request) -> dict:
    from .models import PhoneReveal

    return {
        "reveals": list(PhoneReveal.objects.select_related("user", "appeal").order_by("-created_at", "-id")[:8]),
        "url": reverse("intake:phone_reveals"),
    }


def awaiting_triage(user):
    """待研判 beside the desk: new appeals the center has not triaged yet (center staff only)."""
    if not user.has_role(*CENTER):
        return None
    return Appeal.objects.visible_to(user).filter(status=AppealStatus.NEW)


NAV_ITEMS = [
    NavItem(
        _("分诊台"),
        "intake:desk",
        roles=frozenset({Role.CENTER_STAFF, Role.ADMIN, Role.SUPERVISOR}),
        order=10,
        counts=(NavCount(_("待研判"), awaiting_triage),),
    ),
    NavItem(_("热线登记"), "intake:hotline", roles=CENTER, order=11),
    NavItem(_("号码查看记录"), "intake:phone_reveals", roles=frozenset({Role.ADMIN}), order=950),
]

HOME_PANELS = [
    HomePanel(
        "intake/_panel_desk.html",
        roles=frozenset({Role.CENTER_STAFF, Role.ADMIN, Role.SUPERVISOR}),
        order=10,
        context=desk_panel,
    ),
    HomePanel("intake/_panel_reveals.html", roles=frozenset({Role.ADMIN}), order=60, context=reveals_panel),
]
