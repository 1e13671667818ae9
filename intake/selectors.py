"""Reads about appeals: the triage desk (keyset pages, counts per status), a caller's history,
similar appeals from others."""

from __future__ import annotations

import base64
import json
import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import BooleanField, Count, F, Func, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from units.visibility import entry_scope

from . import filters
from .choices import AppealStatus
from .limits import APPEAL_FIELD_LIMITS
from .models import Appeal, AppealScopeEntry
from .similarity import cosine_vectors, max_chars, vector

DESK_ORDER = ("severity_rank", "received_at", "id")
_CURSOR_SALT = "intake.desk.cursor"


def visible_appeals(user) -> QuerySet[Appeal]:
    return Appeal.objects.visible_to(user).select_related("category", "category__parent", "unit")


# --- A unit's lists that grow with history, read from its ``AppealScopeEntry`` rows ---------------

# The GIN index of ``scope_units`` finds a unit's appeals but gives them in no order: the desk's 全部
# and 已办结 of a station and the API list of its appeals read and sorted the station's whole
# history for a page. A unit user's (PostgreSQL) are read from his unit's entries instead, whose
# btree indexes lead with the unit and then the list's order: a page reads a page of rows. The
# lists' orders name the entry's copies of the sort keys (``list_rank``, ``list_at``: the same
# values as the appeal's), so the index gives the order and the cursor seeks in it.
ENTRY_DESK_ORDER = ("list_rank", "list_at", "id")
ENTRY_NEWEST_FIRST = ("-list_at", "-id")
# The desk's status tabs read from the entries besides 全部: 已办结 (most of a unit's history) from
# the desk-order index with the entry's status; the open tabs and their counts from the index of
# open statuses (``appeal_scope_open``): through the GIN of ``scope_units`` each count built the
# unit's whole bitmap and every unit's bitmap of the status. 已合并 appeals are merged before
# dispatch, seen by no unit.
ENTRY_STATUSES = frozenset(
    {AppealStatus.CLOSED, AppealStatus.NEW, AppealStatus.PENDING_DISPATCH, AppealStatus.DISPATCHED}
)


def seen_in_order(user, statuses=()) -> QuerySet[Appeal] | None:
    """The appeals ``user`` sees (of ``statuses``, all when empty), read from his unit's
    ``AppealScopeEntry`` rows and annotated with the entry's sort keys ``list_rank`` and
    ``list_at``, to be ordered by ``ENTRY_DESK_ORDER`` or ``ENTRY_NEWEST_FIRST``; None when
    ``entry_scope`` is None. The same appeals as ``Appeal.objects.visible_to(user)``: the entries
    are the elements of ``scope_units``, one per appeal for a given unit."""
    scope = entry_scope(user)
    if scope is None:
        return None
    on_entry = Q(scope_entries__unit=scope.pk)
    if statuses:
        on_entry &= Q(scope_entries__status__in=list(statuses))
    # One filter() call, so the unit and the status are conditions on one join, which the
    # annotations, the keyset conditions and the filters on the sort keys reuse.
    return Appeal.objects.filter(on_entry).annotate(
        list_rank=F("scope_entries__severity_rank"),
        list_at=F("scope_entries__received_at"),
        list_status=F("scope_entries__status"),
    )


def is_entry_list(queryset: QuerySet[Appeal]) -> bool:
    """Whether ``queryset`` reads a unit's entries (``seen_in_order``)."""
    return "list_at" in queryset.query.annotations


def desk_source(user, params) -> QuerySet[Appeal]:
    """The appeals the desk lists for ``params`` (a QueryDict of its filters, "全部" as no status)
    before its filters: a unit user's through his unit's entries for 全部 and 已办结 without a text
    search (read newest first from windows of time, ``search_page``), else the visibility rule."""
    statuses = params.getlist("status")
    text = params.get("q")
    if set(statuses) <= ENTRY_STATUSES and not filters.is_text_search(text, vendor=connection.vendor):
        seen = seen_in_order(user, statuses)
        if seen is not None:
            return seen.select_related("category", "category__parent", "unit")
    return visible_appeals(user)


def encode_cursor(appeal: Appeal) -> str:
    """An opaque, tamper-proof cursor after ``appeal`` in desk order."""
    raw = json.dumps([appeal.severity_rank, appeal.received_at.isoformat(), appeal.pk])
    return signing.dumps(base64.urlsafe_b64encode(raw.encode()).decode(), salt=_CURSOR_SALT, compress=True)


def decode_cursor(cursor: str) -> tuple[int, datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(signing.loads(cursor, salt=_CURSOR_SALT).encode())
        rank, when, pk = json.loads(raw)
        moment = parse_datetime(when)
        return (int(rank), moment, int(pk)) if moment else None
    except (signing.BadSignature, ValueError, TypeError):
        return None


@dataclass
class DeskPage:
    items: list[Appeal]
    next_cursor: str | None


def desk_page(queryset: QuerySet[Appeal], *, cursor: str | None = None, size: int = 50) -> DeskPage:
    """One page of the desk: most severe first, then oldest first, by keyset (no OFFSET, no COUNT)."""
    rows = list(desk_rows(queryset, cursor=cursor)[: size + 1])
    more = len(rows) > size
    items = rows[:size]
    return DeskPage(items=items, next_cursor=encode_cursor(items[-1]) if more and items else None)


def desk_rows(queryset: QuerySet[Appeal], *, cursor: str | None = None) -> QuerySet[Appeal]:
    """``queryset`` in desk order from ``cursor`` on (a unit's entries in their keys' order)."""
    entries = is_entry_list(queryset)
    queryset = queryset.order_by(*(ENTRY_DESK_ORDER if entries else DESK_ORDER))
    position = decode_cursor(cursor) if cursor else None
    if position:
        if entries:  # the entry's keys: the page starts at the cursor in the unit's entry index
            queryset = queryset.filter(_after(AppealScopeEntry._meta.db_table, *position, pk_column="appeal_id"))
        else:
            queryset = queryset.filter(_after(queryset.model._meta.db_table, *position))
    return queryset


def _after(table: str, rank: int, when: datetime, pk: int, *, pk_column: str = "id") -> RawSQL:
    """Rows after the cursor in desk order, as one row-value comparison (on ``table``'s columns:
    the appeal's, or a unit's entry's, whose ``pk_column`` is the appeal's id).

    Written as ``(rank, received_at, id) > (…)`` the database seeks straight to the cursor in the
    desk index; the equivalent OR of three conditions is only a filter, and PostgreSQL then reads
    every row before the cursor (page 1,000 cost 20 times page 1).
    """
    columns = ", ".join(f'"{table}"."{c}"' for c in ("severity_rank", "received_at", pk_column))
    return RawSQL(
        f"({columns}) > (%s, %s, %s)",
        (rank, connection.ops.adapt_datetimefield_value(when), pk),
        output_field=BooleanField(),
    )


# --- Free-text search, newest first ------------------------------------------------------------

# Time blocks of the search index (migration 0013): level l is a block of 8**l hours, levels 0–6.
SEARCH_LEVELS = 7
_SEARCH_CURSOR_SALT = "intake.desk.search.cursor"
NEWEST_FIRST = ("-received_at", "-id")


def _hour(moment: datetime) -> int:
    return math.floor(moment.timestamp() / 3600)


def search_blocks(level: int, moment: datetime, *, older: bool = True) -> list[str]:
    """The index tokens of the eight blocks of ``level`` that end with (``older``) or start with
    the block holding ``moment``."""
    block = _hour(moment) >> (3 * level)
    blocks = range(block - 7, block + 1) if older else range(block, block + 8)
    return [f"~{level}:{b}" for b in blocks]


# A filtered set this small (one open status, a small unit) is searched by reading it whole with
# LIKE, through the filters' own indexes: cheaper than any window of the word's matches.
SEARCH_SMALL_SET = 3000


def search_window(
    queryset: QuerySet[Appeal],
    *,
    need: int,
    anchor: datetime | None = None,
    older: bool = True,
    after=None,
    unsearched: QuerySet[Appeal] | None = None,
    text: str | None = None,
) -> QuerySet[Appeal]:
    """``queryset`` (a text search, ``filters.is_text_search``) narrowed to the smallest window of
    time that holds ``need`` matches on the side of ``anchor`` (now by default) the list reads.

    The index holds each appeal's bigrams and its time blocks (migration 0013), so "the word AND one
    of these 8 blocks" is intersected inside the GIN index: the rows fetched are the matches of the
    window, never the word's whole history. Windows grow eightfold (8 hours, 64 hours, 21 days, half
    a year, 3.7 years, 30 years, 239 years); each probe counts at most ``need`` rows. ``after`` is
    the page's keyset condition, so the probe counts only rows the page may show.

    With ``unsearched`` (the same filters without the text) and ``text``: when the filters alone
    leave at most SEARCH_SMALL_SET appeals (a tab of new appeals, a small unit), those are read
    whole and checked with LIKE instead, which costs less than probing windows for a page that the
    small set may never fill.
    """
    small = _small_set_search(unsearched, text)
    if small is not None:
        return small
    anchor = anchor or timezone.now()
    probe_base = queryset.filter(after) if after is not None else queryset
    windowed = queryset
    for level in range(SEARCH_LEVELS):
        condition = filters.terms_overlap(search_blocks(level, anchor, older=older))
        windowed = queryset.filter(condition)
        if probe_base.filter(condition).order_by()[:need].count() >= need:
            break
    return windowed


def _small_set_search(unsearched: QuerySet[Appeal] | None, text: str | None) -> QuerySet[Appeal] | None:
    """The search as LIKE over the filters' own rows when they are at most ``SEARCH_SMALL_SET``
    (``search_window``), else None."""
    if unsearched is None or not text:
        return None
    if unsearched.order_by()[: SEARCH_SMALL_SET + 1].count() > SEARCH_SMALL_SET:
        return None
    return unsearched.filter(filters.search_condition(text, vendor=""))


def _windowed_page(
    queryset: QuerySet[Appeal],
    *,
    need: int,
    anchor: datetime | None,
    after,
    unsearched: QuerySet[Appeal] | None,
    text: str | None,
) -> list[Appeal]:
    """The newest ``need`` rows of a text search after the keyset condition ``after``: the windows
    of ``search_window`` read as pages themselves. A window that holds ``need`` rows holds the
    newest ``need`` (every row outside it is older), so the probe that fills is the page: one
    statement fewer than counting the window and then reading it (the count and the read
    intersected the same posting lists twice: 18.7 and 23.5 ms of a station handler's 噪音 at 1M)."""
    small = _small_set_search(unsearched, text)
    if small is not None:
        return list((small.filter(after) if after is not None else small).order_by(*NEWEST_FIRST)[:need])
    anchor = anchor or timezone.now()
    base = queryset.filter(after) if after is not None else queryset
    rows: list[Appeal] = []
    for level in range(SEARCH_LEVELS):
        rows = list(base.filter(filters.terms_overlap(search_blocks(level, anchor))).order_by(*NEWEST_FIRST)[:need])
        if len(rows) >= need:
            break
    return rows


def encode_search_cursor(appeal: Appeal) -> str:
    raw = json.dumps([appeal.received_at.isoformat(), appeal.pk])
    return signing.dumps(base64.urlsafe_b64encode(raw.encode()).decode(), salt=_SEARCH_CURSOR_SALT, compress=True)


def decode_search_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(signing.loads(cursor, salt=_SEARCH_CURSOR_SALT).encode())
        when, pk = json.loads(raw)
        moment = parse_datetime(when)
        return (moment, int(pk)) if moment else None
    except (signing.BadSignature, ValueError, TypeError):
        return None


@contextmanager
def serial_reads():
    """Run the enclosed queries without parallel workers or JIT (PostgreSQL; a transaction).

    A search page reads a few hundred rows. The planner cannot tell how many of a word's rows fall
    in a window of time and may plan parallel workers or JIT compilation for it, which cost more to
    start (tens of milliseconds, more on a busy machine) than the whole read.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off")
        yield


def search_page(
    queryset: QuerySet[Appeal],
    *,
    cursor: str | None = None,
    size: int = 50,
    unsearched: QuerySet[Appeal] | None = None,
    text: str | None = None,
) -> DeskPage:
    """One page of a text search on the desk: newest first, by keyset, read from the smallest
    window of time that holds the page (``search_window``)."""
    position = decode_search_cursor(cursor) if cursor else None
    after = None
    if position:
        after = RawSQL(
            f'("{Appeal._meta.db_table}"."received_at", "{Appeal._meta.db_table}"."id") < (%s, %s)',
            (connection.ops.adapt_datetimefield_value(position[0]), position[1]),
            output_field=BooleanField(),
        )
    with serial_reads():
        if connection.vendor == "postgresql":
            rows = _windowed_page(
                queryset,
                need=size + 1,
                anchor=position[0] if position else None,
                after=after,
                unsearched=unsearched,
                text=text,
            )
        else:
            rows = list((queryset.filter(after) if after is not None else queryset).order_by(*NEWEST_FIRST)[: size + 1])
    more = len(rows) > size
    items = rows[:size]
    return DeskPage(items=items, next_cursor=encode_search_cursor(items[-1]) if more and items else None)


def queue_page(
    queryset: QuerySet[Appeal],
    *,
    text: str | None,
    cursor: str | None = None,
    size: int = 50,
    unsearched: QuerySet[Appeal] | None = None,
) -> DeskPage:
    """A page of the desk's queue: newest first for a text search (``search_page``; ``unsearched``
    is the same queue without the text), else desk order."""
    if filters.is_text_search(text, vendor=connection.vendor):
        return search_page(queryset, cursor=cursor, size=size, unsearched=unsearched, text=text)
    return desk_page(queryset, cursor=cursor, size=size)


def queue_cursor(appeal: Appeal, *, text: str | None) -> str:
    """The cursor after ``appeal`` in the order ``queue_page`` reads for ``text``."""
    if filters.is_text_search(text, vendor=connection.vendor):
        return encode_search_cursor(appeal)
    return encode_cursor(appeal)


# Tabs count exactly up to this many appeals and show "1000+" beyond: a bounded count per status
# costs the same whether the table holds a hundred thousand appeals or ten million (rule 7).
COUNT_CAP = 1000
# Closed and merged grow forever: their tabs show no count (a count would read the history).
COUNTED_STATUSES = (AppealStatus.NEW, AppealStatus.PENDING_DISPATCH, AppealStatus.DISPATCHED)


def status_counts(
    queryset: QuerySet[Appeal], *, cap: int = COUNT_CAP, text: str | None = None
) -> dict[str, int | None]:
    """Appeals per open status, each counted up to ``cap + 1`` (None for closed and merged).

    A value above ``cap`` means "more than cap" (see ``count_label``). A text search (``text``,
    see ``filters.is_text_search``) counts nothing: its matches are read newest first from a window
    of time, and a count per status would read every match of the whole history.
    """
    if filters.is_text_search(text, vendor=connection.vendor):
        return dict.fromkeys(AppealStatus.values)
    base = queryset.order_by()
    # A unit's entries (``seen_in_order``) are counted by the entry's status: the same join, read
    # from the unit's index of open statuses (``appeal_scope_open``).
    field = "list_status" if is_entry_list(base) else "status"
    return {
        s: base.filter(**{field: s})[: cap + 1].count() if s in COUNTED_STATUSES else None for s in AppealStatus.values
    }


def count_label(n: int | None, *, cap: int = COUNT_CAP) -> str:
    if n is None:
        return ""
    return f"{cap}+" if n > cap else str(n)


def caller_history(caller_hash: str, *, user, exclude_pk: int | None = None, limit: int = 20) -> list[Appeal]:
    """Earlier appeals of the same caller (keyed phone hash) that ``user`` may see, newest first."""
    if not caller_hash:
        return []
    qs = visible_appeals(user).filter(citizen_phone_hash=caller_hash).order_by("-received_at", "-id")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs[:limit])


def similar_appeals(appeal: Appeal, *, user, limit: int = 10, days: int = 90) -> list[tuple[Appeal, float]]:
    """Appeals from OTHER callers about a similar matter in the last ``days`` days, best first.

    PostgreSQL uses pg_trgm (its ``pg_trgm.similarity_threshold``, 0.3 by default, through the GIN
    index); elsewhere a character-bigram cosine in Python against INTAKE_SIMILARITY_THRESHOLD.

    Bounded whatever the texts: only the first INTAKE_SIMILARITY_MAX_CHARS characters of this
    appeal are compared, and rows far longer than the content limit (written before it existed)
    are left out — pg_trgm re-reads the whole text of every row the index proposes, and a long text
    shares trigrams with almost anything, so one such row made every appeal page slow.
    """
    since = appeal.received_at - timedelta(days=days)
    qs = visible_appeals(user).filter(received_at__gte=since).exclude(pk=appeal.pk)
    if appeal.citizen_phone_hash:
        qs = qs.exclude(citizen_phone_hash=appeal.citizen_phone_hash)
    text = appeal.content[: max_chars()]
    if settings.IS_POSTGRES:
        from django.contrib.postgres.search import TrigramSimilarity

        # octet_length reads the stored size without decompressing the text; 4 bytes per
        # character is the most UTF-8 needs.
        stored_bytes = Func(F("content"), function="octet_length", output_field=IntegerField())
        qs = qs.alias(stored_bytes=stored_bytes).filter(stored_bytes__lte=4 * APPEAL_FIELD_LIMITS["content"])
        # The % operator (trigram_similar) is what the GIN index serves; similarity() only ranks.
        rows = (
            qs.filter(content__trigram_similar=text)
            .annotate(score=TrigramSimilarity("content", text))
            .order_by("-score", "-received_at")[:limit]
        )
        return [(row, float(row.score)) for row in rows]
    wanted = vector(text)
    rows = qs.order_by("-received_at").annotate(head=Substr("content", 1, max_chars()))[:2000]
    scored = [(row, cosine_vectors(wanted, vector(row.head))) for row in rows]
    scored = [pair for pair in scored if pair[1] >= settings.INTAKE_SIMILARITY_THRESHOLD]
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


def recent_counts(user, *, hours: int = 24) -> dict[str, int]:
    """Figures for the home panel: new today, red and open, repeats open, risk alerts open."""
    open_qs = Appeal.objects.visible_to(user).filter(status__in=[AppealStatus.NEW, AppealStatus.PENDING_DISPATCH])
    since = timezone.now() - timedelta(hours=hours)
    return open_qs.aggregate(
        new=Count("id", filter=Q(status=AppealStatus.NEW)),
        pending=Count("id", filter=Q(status=AppealStatus.PENDING_DISPATCH)),
        red=Count("id", filter=Q(severity_rank=0)),
        repeats=Count("id", filter=Q(is_repeat=True)),
        risks=Count("id", filter=~Q(risk_words="")),
        today=Count("id", filter=Q(received_at__gte=since)),
    )
