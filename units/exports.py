"""XLSX exports of the staff lists: one helper every list's export view calls.

A list exports what it shows — the same queryset its view builds (visibility, filters, order) —
up to the whole result, never one page. Memory stays bounded whatever the row count: rows are
read from the database in chunks (``QuerySet.iterator``; a server-side cursor on PostgreSQL) and
XlsxWriter in ``constant_memory`` mode writes each row to its temporary files as it comes, so
neither the model objects nor the sheet are ever held whole. The finished workbook is a temporary
file that ``FileResponse`` streams out and the operating system removes once it is closed.

Citizens' numbers never leave in clear: phone columns go through ``intake.phones.mask`` and free
text through ``units.logging.mask`` (the one masking rule for every file handed out).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .logging import mask as mask_text

# Rows read from the database per round trip: large enough that the round trips do not dominate,
# small enough that one chunk of model objects stays a few megabytes.
DEFAULT_CHUNK_SIZE = 2000
# Excel's own limit is 1,048,576 rows per sheet (the header takes one).
DEFAULT_MAX_ROWS = 1_000_000
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Column:
    """One column of an export: its Chinese header, how a row gives its value, its width.

    ``value`` returns text, a number, a date or an aware datetime (written in the local time
    zone, Asia/Shanghai); ``free_text`` columns are masked with ``units.logging.mask``.
    """

    header: Any
    value: Callable[[Any], Any]
    width: int = 14
    free_text: bool = False


def chunk_size() -> int:
    return int(getattr(settings, "EXPORT_CHUNK_SIZE", DEFAULT_CHUNK_SIZE))


def max_rows() -> int:
    return int(getattr(settings, "EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def _local(value: dt.datetime) -> dt.datetime:
    """An aware datetime as the naive wall-clock time of the platform's zone (Excel has no zones)."""
    if timezone.is_aware(value):
        value = value.astimezone(ZoneInfo(settings.TIME_ZONE))
    return value.replace(tzinfo=None)


def rows_of(queryset: QuerySet) -> Iterable:
    """The queryset's rows in chunks of ``EXPORT_CHUNK_SIZE``, without materialising the result.

    The queryset must be ordered (an export is read in the list's order). ``iterator`` also runs
    ``prefetch_related`` once per chunk, so prefetched lists cost one query per chunk, not per row.
    """
    if not queryset.ordered:
        queryset = queryset.order_by("pk")
    return queryset.iterator(chunk_size=chunk_size())


def write_xlsx(target, rows: Iterable, columns: list[Column], *, sheet: str, limit: int | None = None) -> int:
    """Write ``rows`` as one sheet to ``target`` (a path or a binary file) and return the row count.

    Rows are written one at a time and never kept: constant_memory flushes each row to the
    workbook's temporary files as soon as the next one starts.
    """
    limit = max_rows() if limit is None else limit
    workbook = xlsxwriter.Workbook(
        target,
        {"constant_memory": True, "tmpdir": getattr(settings, "EXPORT_TMPDIR", None) or tempfile.gettempdir()},
    )
    try:
        # Sheet names: 31 characters at most, none of []:*?/\ (Excel's rules).
        name = "".join(c for c in str(sheet) if c not in "[]:*?/\\")[:31] or "Sheet1"
        worksheet = workbook.add_worksheet(name)
        header = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
        when = workbook.add_format({"num_format": DATETIME_FORMAT})
        day = workbook.add_format({"num_format": DATE_FORMAT})
        for col, column in enumerate(columns):
            worksheet.set_column(col, col, column.width)
            worksheet.write_string(0, col, str(column.header), header)
        worksheet.freeze_panes(1, 0)
        count = 0
        for item in rows:
            if count >= limit:
                break
            count += 1
            for col, column in enumerate(columns):
                _write_cell(worksheet, count, col, column, column.value(item), when, day)
        return count
    finally:
        workbook.close()


def _write_cell(worksheet, row: int, col: int, column: Column, value, when, day) -> None:
    if value is None or value == "":
        worksheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        worksheet.write_string(row, col, _("是") if value else _("否"))
    elif isinstance(value, dt.datetime):
        worksheet.write_datetime(row, col, _local(value), when)
    elif isinstance(value, dt.date):
        worksheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), day)
    elif isinstance(value, int | float):
        worksheet.write_number(row, col, value)
    else:
        text = str(value)
        if column.free_text:
            text = mask_text(text)
        # write_string: a citizen's text beginning with "=" stays text, never a formula.
        worksheet.write_string(row, col, text[:32767])


def over_cap(queryset: QuerySet) -> bool:
    """Whether the result holds more rows than an export may (a bounded count: it stops at cap+1)."""
    cap = max_rows()
    return queryset.order_by()[: cap + 1].count() > cap


def xlsx_response(
    request: HttpRequest,
    queryset: QuerySet,
    columns: list[Column],
    *,
    sheet: str,
    filename: str,
    back: str,
) -> HttpResponse:
    """The export of ``queryset`` as a streamed XLSX attachment, or back to the list with a message
    when the result is over ``EXPORT_MAX_ROWS`` (an export cut short would pass for complete)."""
    if over_cap(queryset):
        messages.error(
            request,
            _("结果超过 %(cap)s 行，无法导出。请缩小筛选范围（如按日期分段）后再导出。") % {"cap": f"{max_rows():,}"},
        )
        return redirect(back)
    handle = tempfile.TemporaryFile(suffix=".xlsx", dir=getattr(settings, "EXPORT_TMPDIR", None))
    try:
        count = write_xlsx(handle, rows_of(queryset), columns, sheet=sheet)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Export-Rows"] = str(count)
    response["Cache-Control"] = "no-store"
    return response


def back_to(path: str, request: HttpRequest) -> str:
    """The list's URL with the export's own query (its filters), to return to after a refusal."""
    query = request.GET.urlencode()
    return f"{path}?{query}" if query else path
