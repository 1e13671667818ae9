"""Reads about appeals: the triage desk (keyset pages, counts per status), a caller's history,
similar appeals from others."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import BooleanField, Count, F, Func, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .choices import AppealStatus
from .limits import APPEAL_FIELD_LIMITS
from .models import Appeal
from .similarity import cosine_vectors, max_chars, vector

DESK_ORDER = ("severity_rank", "received_at", "id")
_CURSOR_SALT = "intake.desk.cursor"


def visible_appeals(user) -> QuerySet[Appeal]:
    return Appeal.objects.visible_to(user).select_related("category", "category__parent", "unit")


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
    queryset = queryset.order_by(*DESK_ORDER)
    position = decode_cursor(cursor) if cursor else None
    if position:
        queryset = queryset.filter(_after(queryset.model._meta.db_table, *position))
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    items = rows[:size]
    return DeskPage(items=items, next_cursor=encode_cursor(items[-1]) if more and items else None)


def _after(table: str, rank: int, when: datetime, pk: int) -> RawSQL:
    """Rows after the cursor in desk order, as one row-value comparison.

    Written as ``(rank, received_at, id) > (…)`` the database seeks straight to the cursor in the
    desk index; the equivalent OR of three conditions is only a filter, and PostgreSQL then reads
    every row before the cursor (page 1,000 cost 20 times page 1).
    """
    columns = ", ".join(f'"{table}"."{c}"' for c in DESK_ORDER)
    return RawSQL(
        f"({columns}) > (%s, %s, %s)",
        (rank, connection.ops.adapt_datetimefield_value(when), pk),
        output_field=BooleanField(),
    )


# Tabs count exactly up to this many appeals and show "1000+" beyond: a bounded count per status
# costs the same whether the table holds a hundred thousand appeals or ten million (rule 7).
COUNT_CAP = 1000
# Closed and merged grow forever: their tabs show no count (a count would read the history).
COUNTED_STATUSES = (AppealStatus.NEW, AppealStatus.PENDING_DISPATCH, AppealStatus.DISPATCHED)


def status_counts(queryset: QuerySet[Appeal], *, cap: int = COUNT_CAP) -> dict[str, int | None]:
    """Appeals per open status, each counted up to ``cap + 1`` (None for closed and merged).

    A value above ``cap`` means "more than cap" (see ``count_label``).
    """
    base = queryset.order_by()
    return {s: base.filter(status=s)[: cap + 1].count() if s in COUNTED_STATUSES else None for s in AppealStatus.values}


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
