"""Reads that may be served by a PostgreSQL streaming replica, and only those.

When ``DATABASE_REPLICA_URL`` is set, settings add a ``replica`` database. The rule is:

1. Reads go to the replica only inside :func:`read_from_replica` — a context the
   :class:`ReplicaReadMiddleware` opens around GET/HEAD requests whose URL name matches
   ``REPLICA_READ_URLS`` (analytics pages, the analytics API, bulletin exports), and that code
   such as a report job may open itself. Everything else reads and writes the primary.
2. Writes always go to the primary. Once anything inside the context has written (through the ORM
   or a raw cursor on the primary), or while a transaction on the primary is open, every later
   read in that context stays on the primary, so a request reads its own writes.
3. Models that decide who the user is (sessions, users, API tokens, permissions, lockouts:
   ``REPLICA_PRIMARY_MODELS``) are always read from the primary: a user who has just logged in
   must not look anonymous because the replica is a few milliseconds behind.
4. A browser that has just written (any POST, or a GET that wrote) carries a short-lived cookie
   and reads from the primary for ``REPLICA_PIN_SECONDS``: the page a form redirects to shows
   what the form saved, whichever web host answers.
5. If the replica cannot be reached, the read goes to the primary, the failure is logged once,
   and the replica is not tried again for ``REPLICA_RETRY_SECONDS``.

Figures read from the replica may be as old as the replica's lag (normally under a second;
docs/deployment.md says what to watch).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

REPLICA = "replica"
PIN_COOKIE = "oc_read_primary"
_SAFE_METHODS = frozenset({"GET", "HEAD"})
_READ_ONLY_SQL = ("SELECT", "WITH", "SHOW", "EXPLAIN", "SET", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class _Context:
    wrote: bool = False


_context: contextvars.ContextVar[_Context | None] = contextvars.ContextVar("read_from_replica", default=None)
# Monotonic time before which the replica is not tried again (per process; a race only costs a retry).
_replica_down_until = 0.0


def replica_configured() -> bool:
    """True when settings define a replica database."""
    return REPLICA in connections.settings


def _mark_writes(execute, sql, params, many, context):
    """Execute wrapper on the primary: any statement that is not a read pins the context there."""
    state = _context.get()
    if state is not None and not state.wrote and not str(sql).lstrip().upper().startswith(_READ_ONLY_SQL):
        state.wrote = True
    return execute(sql, params, many, context)


@contextmanager
def read_from_replica() -> Iterator[None]:
    """Let reads inside this block go to the replica (the rule in the module docstring).

    Nested blocks share the outer one's state: a write anywhere pins the whole block to the primary.
    Without a configured replica it changes nothing.
    """
    if _context.get() is not None or not replica_configured():
        yield
        return
    # As at the start of a request: a kept replica connection is health-checked at its first use in
    # the block (the replica may have restarted since), and dropped if it has outlived CONN_MAX_AGE.
    connections[REPLICA].close_if_unusable_or_obsolete()
    token = _context.set(_Context())
    try:
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(_mark_writes):
            yield
    finally:
        _context.reset(token)


def reading_alias(model: type | None = None) -> str:
    """The database a read issued here and now should use: ``"replica"`` or ``"default"``.

    For raw SQL, which routers never see: ``connections[reading_alias()].cursor()``.
    """
    state = _context.get()
    if state is None or state.wrote or not replica_configured():
        return DEFAULT_DB_ALIAS
    if model is not None and _primary_only(model):
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA if _replica_reachable() else DEFAULT_DB_ALIAS


def _primary_only(model: type) -> bool:
    label = model._meta.label_lower
    return any(fnmatchcase(label, pattern) for pattern in settings.REPLICA_PRIMARY_MODELS)


def _replica_reachable() -> bool:
    """Connect to the replica if needed; on failure log, remember it for a while, answer False."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return False
    replica = connections[REPLICA]
    try:
        # A connection kept from an earlier request is checked first (CONN_HEALTH_CHECKS): a replica
        # restarted since then must fall back here, not fail the query that follows.
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except DatabaseError as exc:
        retry = settings.REPLICA_RETRY_SECONDS
        _replica_down_until = time.monotonic() + retry
        logger.warning("Read replica unavailable, reading from the primary for the next %s s: %s", retry, exc)
        return False
    return True


def forget_replica_failure() -> None:
    """Try the replica again at the next read (after it has been repaired, and in tests)."""
    global _replica_down_until
    _replica_down_until = 0.0


class ReplicaRouter:
    """Sends reads to the replica inside :func:`read_from_replica`; everything else to the primary."""

    def db_for_read(self, model, **hints) -> str:
        return reading_alias(model)

    def db_for_write(self, model, **hints) -> str:
        state = _context.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replica is a copy of the primary: an object read from one may point to one of the other.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        # A standby is read-only; it receives the schema through replication.
        return False if db == REPLICA else None


class ReplicaReadMiddleware:
    """Opens :func:`read_from_replica` around the GET/HEAD requests named in ``REPLICA_READ_URLS``.

    Inert (one dictionary look-up) when no replica is configured. Placed after the authentication
    middleware; the whole response, template rendering included, is produced inside the block.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        if not self._may_use_replica(request):
            response = self.get_response(request)
            if request.method not in _SAFE_METHODS:
                self._pin(response)
            return response
        with read_from_replica():
            response = self.get_response(request)
            state = _context.get()
            wrote = state is not None and state.wrote
        if wrote:
            self._pin(response)
        return response

    def _may_use_replica(self, request: HttpRequest) -> bool:
        if request.method not in _SAFE_METHODS or PIN_COOKIE in request.COOKIES:
            return False
        try:
            match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            return False
        return any(fnmatchcase(match.view_name, pattern) for pattern in settings.REPLICA_READ_URLS)

    def _pin(self, response: HttpResponse) -> None:
        response.set_cookie(
            PIN_COOKIE,
            "1",
            max_age=settings.REPLICA_PIN_SECONDS,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
