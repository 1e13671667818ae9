"""Navigation and home-page panels, contributed by each app.

An app lists its menu entries in ``<app>/nav.py`` as ``NAV_ITEMS`` and its home-page panels as
``HOME_PANELS``; the staff shell shows each user those meant for his role. Apps therefore never
edit the shared layout to appear in it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, transaction
from django.urls import NoReverseMatch, reverse

from .app_modules import app_modules

logger = logging.getLogger(__name__)

# A menu count reads at most this many rows and shows "99+" beyond COUNT_LIMIT - 1: it never
# walks history, whatever the tables hold (rule 7).
COUNT_LIMIT = 100


@dataclass(frozen=True)
class NavCount:
    """A to-do count shown beside a menu entry (e.g. 待签收 3).

    ``rows(user)`` gives the queryset of what waits for this user (already narrowed by
    ``visible_to``), or None when the count is not meant for him. The shell counts every entry's
    rows in one statement per request, each bounded by ``COUNT_LIMIT``.
    """

    title: str
    rows: Callable = field(compare=False)
    urgent: bool = False  # drawn highlighted
    key: str = ""  # lets the shell find a count again (the unread badge of the top bar)


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str] = frozenset()  # empty: every staff role
    order: int = 100
    icon: str = ""
    counts: tuple[NavCount, ...] = ()

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
    found = [item for module in app_modules("nav") for item in getattr(module, attr, ())]
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


def contributions(attr: str) -> tuple:
    """Everything the apps contribute under ``attr`` in their nav.py, whoever asks (e.g. the
    sections a generated bulletin keeps, which no user is looking at)."""
    return _collect(attr)


def count_text(n: int) -> str:
    return f"{COUNT_LIMIT - 1}+" if n >= COUNT_LIMIT else str(n)


def bounded_counts(querysets: dict, *, limit: int = COUNT_LIMIT) -> dict:
    """Count each queryset up to ``limit`` rows (COUNT_LIMIT), all of one database in a single
    statement: ``SELECT (SELECT COUNT(*) FROM (<rows> LIMIT 100)), ...``.

    A database error costs the counts of that database, never the page: the statement runs in a
    savepoint (the request's transaction stays usable) and the failure is logged.
    """
    found: dict = {}
    by_db: dict[str, list] = {}
    for key, qs in querysets.items():
        limited = qs.order_by().values("pk")[:limit]
        try:
            sql, params = limited.query.get_compiler(using=limited.db).as_sql()
        except EmptyResultSet:  # .none(): nothing to count
            found[key] = 0
            continue
        by_db.setdefault(limited.db, []).append((key, sql, params))
    for alias, parts in by_db.items():
        select = ", ".join(f"(SELECT COUNT(*) FROM ({sql}) AS nav_count_{i})" for i, (_k, sql, _p) in enumerate(parts))
        params = [p for _k, _sql, part_params in parts for p in part_params]
        connection = connections[alias]
        # Inside a transaction a failed statement would abort it for the rest of the page, so it
        # runs in a savepoint there; in autocommit it needs none.
        guard = transaction.atomic(using=alias) if connection.in_atomic_block else contextlib.nullcontext()
        try:
            with guard, connection.cursor() as cursor:
                cursor.execute(f"SELECT {select}", params)
                row = cursor.fetchone()
        except DatabaseError:
            logger.warning("menu counts failed on %s; the menu shows none", alias, exc_info=True)
            continue
        found.update({key: n for (key, _sql, _p), n in zip(parts, row, strict=True)})
    return found
