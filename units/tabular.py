"""Reading tabular files (CSV in UTF-8/GB18030, TSV, XLSX) into numbered rows: the one reader of
the platform, used by every import (appeals from the platforms' exports, service records …).

``read_rows`` maps each file's headers through the caller's aliases (Chinese headers as exported
by the platforms, or English field names). Row numbers are those a user sees in a spreadsheet:
the header is row 1, so the first data row is row 2. An unreadable file raises ``ImportFileError``
with a Chinese message for the user.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _

# The file names a reader accepts (the upload forms check them before a file is stored).
EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, missing columns). Message in Chinese."""


def _normalise_header(name: Any, aliases: Mapping[str, str]) -> str:
    text = str(name or "").replace("\ufeff", "").strip()
    for candidate in (text, text.lower(), text.replace(" ", "").lower()):
        if candidate in aliases:
            return aliases[candidate]
    return text.lower()


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold (phones typed as numbers keep no ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal | int):
        return str(value)
    return str(value).strip()


# Bytes read at a time: a file of a million rows (200 MB) is read and decoded in pieces, never
# held whole in memory.
READ_CHUNK = 1 << 20


def _encoding_of(fileobj: IO) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030: checked in
    pieces, then the file is rewound."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := fileobj.read(READ_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        fileobj.seek(0)


def _text_lines(fileobj: IO, encoding: str) -> Iterator[str]:
    """The file's lines with their line ends, decoded piece by piece; split as a text file opened
    with ``newline=""`` splits them (on \\n, \\r\\n or \\r), which is what ``csv`` expects."""
    decoder = codecs.getincrementaldecoder(encoding)()
    pending = ""
    final = False
    while not final:
        chunk = fileobj.read(READ_CHUNK)
        final = not chunk
        try:
            pending += decoder.decode(chunk, final=final) if isinstance(chunk, bytes) else chunk
        except UnicodeDecodeError as exc:
            raise ImportFileError(_("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV。")) from exc
        lines = io.StringIO(pending, newline="").readlines()
        # The last piece may be a line cut short (or a \r whose \n is in the next chunk).
        pending = "" if final or not lines or lines[-1].endswith("\n") else lines.pop()
        yield from lines


def _csv_records(fileobj: IO) -> Iterator[list[Any]]:
    probe = fileobj.read(0)
    encoding = _encoding_of(fileobj) if isinstance(probe, bytes) else "utf-8"
    lines = _text_lines(fileobj, encoding)
    first_line = next(lines, None)
    if first_line is None:
        return
    if encoding == "utf-8":  # a text file object: its BOM was not taken off by the codec
        first_line = first_line.lstrip("\ufeff")
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    yield from csv.reader(itertools.chain([first_line], lines), delimiter=delimiter)


def _xlsx_records(fileobj: IO) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFileError(_("无法读取 Excel 文件，请确认是 .xlsx 格式。")) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def read_rows(
    fileobj: IO, *, filename: str, aliases: Mapping[str, str] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Numbered rows of a CSV or XLSX file as {field: text}, headers mapped through ``aliases``.

    Headers not in ``aliases`` are kept lower-cased. Empty rows are skipped but keep their numbers.
    Raises ImportFileError (Chinese message) for an unreadable file or one without a header row.
    """
    aliases = aliases or {}
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        records = _xlsx_records(fileobj)
    elif name.endswith((".csv", ".txt", ".tsv")):
        records = _csv_records(fileobj)
    elif name.endswith(".xls"):
        raise ImportFileError(_("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV 后再上传。"))
    else:
        raise ImportFileError(_("只支持 CSV 或 XLSX 文件。"))
    header: list[str] | None = None
    for number, record in enumerate(records, start=1):
        if header is None:
            header = [_normalise_header(h, aliases) for h in record]
            if not any(header):
                raise ImportFileError(_("文件第1行应为表头。"))
            continue
        values = [_cell_text(v) for v in record]
        if not any(values):
            continue
        yield number, {key: (values[i] if i < len(values) else "") for i, key in enumerate(header) if key}
    if header is None:
        raise ImportFileError(_("文件为空。"))


def missing_columns(row: Mapping[str, str], required: Iterable[str]) -> list[str]:
    return [name for name in required if name not in row]


def estimate_rows(fileobj: IO, *, filename: str) -> int:
    """A cheap row count for the progress bar (lines of a CSV, the sheet size of an XLSX)."""
    try:
        if filename.lower().endswith((".xlsx", ".xlsm")):
            from openpyxl import load_workbook

            workbook = load_workbook(fileobj, read_only=True)
            try:
                return max(0, (workbook.worksheets[0].max_row or 1) - 1)
            finally:
                workbook.close()
        lines = 0
        while chunk := fileobj.read(READ_CHUNK):
            lines += chunk.count(b"\n" if isinstance(chunk, bytes) else "\n")
        return max(0, lines - 1)
    except Exception:  # noqa: BLE001 - only an estimate; the import itself reports real errors
        return 0
    finally:
        fileobj.seek(0)
