"""Bulk actions on the rows ticked on a page (the desk's appeals, a list's work orders): the same
service call per row as one by one (its permission check, row lock and timeline row), each row on
its own, so a refusal is reported on its row and the others are done."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest

from .refusals import REFUSALS, refusal_text

BULK_LIMIT = 100


def selected_ids(request: HttpRequest, *, limit: int = BULK_LIMIT) -> list[int]:
    """The ids ticked (``ids`` in the POST), in the order ticked, each once, the first ``limit``
    given; a value that is not an id is passed over."""
    ids: dict[int, None] = {}
    for raw in request.POST.getlist("ids")[:limit]:
        if raw.isdigit() and len(raw) <= 12:
            ids.setdefault(int(raw))
    return list(ids)


def act_on_each(
    ids: Iterable[int],
    rows: dict[int, Any],
    act: Callable[[Any], str],
    *,
    key: str,
    label: Callable[[Any], str],
    missing: str,
) -> list[dict]:
    """``act(row)`` for each id in order; one result each: ``{"pk", key: the row's label, "ok",
    "text"}``, the text being what ``act`` answered or the refusal's sentence. An id not in
    ``rows`` (gone, or not the user's to see) is refused with ``missing``."""
    results = []
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            results.append({"pk": pk, key: f"#{pk}", "ok": False, "text": missing})
            continue
        try:
            text = act(row)
        except REFUSALS as exc:
            results.append({"pk": pk, key: label(row), "ok": False, "text": refusal_text(exc)})
        else:
            results.append({"pk": pk, key: label(row), "ok": True, "text": str(text)})
    return results
