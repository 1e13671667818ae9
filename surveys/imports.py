"""Service records from CSV/XLSX files: the staff upload, the management command and the feeds
import engine (kind "service_records") all end in ``take_in_service_records``."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.core.exceptions import PermissionDenied

from feeds.imports import ImportOutcome, RowError
from units.tabular import read_rows

from . import permissions
from .services.records import RecordImportResult, take_in_service_records

RECORD_HEADER_ALIASES: dict[str, str] = {
    "external_id": "external_id",
    "业务编号": "external_id",
    "编号": "external_id",
    "business_type": "business_type",
    "业务类型": "business_type",
    "served_at": "served_at",
    "办理时间": "served_at",
    "业务时间": "served_at",
    "unit_code": "unit_code",
    "单位代码": "unit_code",
    "officer_code": "officer_code",
    "警号": "officer_code",
    "citizen_phone": "citizen_phone",
    "群众电话": "citizen_phone",
    "联系电话": "citizen_phone",
    "手机号": "citizen_phone",
}
CHUNK = 1000


def _read(fileobj: IO, *, filename: str) -> Iterator[tuple[int, dict[str, Any]]]:
    yield from read_rows(fileobj, filename=filename, aliases=RECORD_HEADER_ALIASES)


def import_rows(
    rows: Iterable[tuple[int, dict[str, Any]]], *, source: str, actor=None, import_batch_id: int | None = None
) -> RecordImportResult:
    """Take rows in chunks (one bulk insert per chunk) and merge the reports."""
    total = RecordImportResult()
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, CHUNK)):
        part = take_in_service_records(rows=chunk, source=source, actor=actor, import_batch_id=import_batch_id)
        total.created += part.created
        total.existing += part.existing
        total.rejected.extend(part.rejected)
    return total


def import_file(fileobj: IO, *, filename: str, actor=None) -> RecordImportResult:
    """A whole file; raises ValueError (Chinese message) when the file cannot be read."""
    if actor is not None and not permissions.may_import_records(actor):
        raise PermissionDenied
    return import_rows(_read(fileobj, filename=filename), source="import", actor=actor)


def import_record_rows(batch, rows, *, progress: Callable[[int], None], estimated_rows: int = 0, method=None):
    """Handler for the feeds import engine (ImportBatch kind "service_records")."""

    result = import_rows(
        rows, source=getattr(getattr(batch, "source", None), "code", "") or "import", import_batch_id=batch.pk
    )
    progress(100)
    return ImportOutcome(
        total_rows=result.created + result.existing + len(result.rejected),
        created=result.created,
        duplicates=result.existing,
        errors=[RowError(row_number=e["index"], field="", reason=e["reason"]) for e in result.rejected],
    )
