"""Reads about units and people."""

from __future__ import annotations

from .models import Unit, User


def unit_overview(request) -> dict:
    """The user's own unit, its parent chain and how many units he sees."""
    user: User = request.user
    visible = Unit.objects.visible_to(user)
    return {
        "unit": user.unit,
        "unit_chain": user.unit.ancestors if user.unit else [],
        "visible_unit_count": visible.count(),
    }


def unit_tree(user: User) -> list[tuple[Unit, int]]:
    """Visible units in tree order, each with its depth for indentation."""
    units = list(Unit.objects.visible_to(user).filter(is_active=True))
    base = min((u.path.count("/") for u in units), default=0)
    return [(u, u.path.count("/") - base) for u in units]
