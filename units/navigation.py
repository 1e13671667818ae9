"""Navigation and home-page panels, contributed by each app.

An app lists its menu entries in ``<app>/nav.py`` as ``NAV_ITEMS`` and its home-page panels as
``HOME_PANELS``; the staff shell shows each user those meant for his role. Apps therefore never
edit the shared layout to appear in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module

from django.apps import apps
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str] = frozenset()  # empty: every staff role
    order: int = 100
    icon: str = ""

    def url(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


@dataclass(frozen=True)
class HomePanel:
    """A panel on the home page: a template fragment and a function giving its context."""

    template: str
    roles: frozenset[str] = frozenset()
    order: int = 100
    context: Callable | None = field(default=None, compare=False)


@cache
def _collect(attr: str) -> tuple:
    found = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.nav")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.nav":
                raise
            continue
        found.extend(getattr(module, attr, ()))
    return tuple(sorted(found, key=lambda item: item.order))


def _for_user(items, user) -> list:
    if not user.is_authenticated:
        return []
    return [i for i in items if not i.roles or user.has_role(*i.roles)]


def nav_items_for(user) -> list[NavItem]:
    return _for_user(_collect("NAV_ITEMS"), user)


def home_panels_for(user) -> list[HomePanel]:
    return _for_user(_collect("HOME_PANELS"), user)


def panels_for(attr: str, user) -> list[HomePanel]:
    """Panels any app contributes under ``attr`` in its nav.py (e.g. "APPEAL_PANELS"), for this user."""
    return _for_user(_collect(attr), user)
