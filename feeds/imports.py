"""Reading import files (CSV in UTF-8/GB18030, XLSX) into numbered rows, and the registry of
import handlers per kind of data.

``read_rows`` is generic: any app can pass its own header aliases. Row numbers are those a user
sees in a spreadsheet: the header is row 1, so the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
from typing import IO, Any

from django.utils.translation import gettext as _

# Header names a file may use for the appeal fields (Chinese as exported by the platforms, or English).
APPEAL_HEADER_ALIASES: dict[str, str] = {
    "external_id": "external_id",
    "来源编号": "external_id",
    "工单编号": "external_id",
    "工单号": "external_id",
    "编号": "external_id",
    "received_at": "received_at",
    "受理时间": "received_at",
    "来电时间": "received_at",
    "留言时间": "received_at",
    "citizen_name": "citizen_name",
    "诉求人": "citizen_name",
    "姓名": "citizen_name",
    "来电人": "citizen_name",
    "留言人": "citizen_name",
    "citizen_phone": "citizen_phone",
    "联系电话": "citizen_phone",
    "电话": "citizen_phone",
    "手机号": "citizen_phone",
    "来电号码": "citizen_phone",
    "content": "content",
    "诉求内容": "content",
    "内容": "content",
    "留言内容": "content",
    "address": "address",
    "地址": "address",
    "事发地址": "address",
    "category_hint": "category_hint",
    "分类": "category_hint",
    "诉求分类": "category_hint",
    "is_enterprise": "is_enterprise",
    "涉企": "is_enterprise",
    "是否涉企": "is_enterprise",
}

# Field names as shown to users in reports.
APPEAL_FIELD_LABELS: dict[str, str] = {
    "external_id": "来源编号",
    "received_at": "受理时间",
    "citizen_name": "诉求人",
    "citizen_phone": "联系电话",
    "content": "诉求内容",
    "address": "地址",
    "category_hint": "分类",
    "is_enterprise": "涉企",
}


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


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Chinese Excel exports are often GB18030/GBK."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV。"))


def _csv_records(fileobj: IO) -> Iterator[list[Any]]:
    data = fileobj.read()
    text = _decode(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


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
    aliases = APPEAL_HEADER_ALIASES if aliases is None else aliases
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


# --- Handlers per kind --------------------------------------------------------------------------


@dataclass
class RowError:
    row_number: int
    field: str
    reason: str
    raw: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportOutcome:
    """What a handler reports back; ``errors`` become ImportRowError rows."""

    total_rows: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    method: str = "orm"
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks and logs


# A handler is called inside one database transaction with the batch (locked), its rows and a
# progress callback taking a percentage; it must not commit, so a crash leaves nothing behind.
ImportHandler = Callable[..., ImportOutcome]

_HANDLERS: dict[str, str | ImportHandler] = {
    "appeals": "feeds.appeal_import.import_appeal_rows",
}
_ALIASES: dict[str, Mapping[str, str]] = {"appeals": APPEAL_HEADER_ALIASES}


def register_import_handler(
    kind: str, handler: str | ImportHandler, *, aliases: Mapping[str, str] | None = None
) -> None:
    """Let another app import its kind of data through ImportBatch, the runner and the report page."""
    _HANDLERS[kind] = handler
    if aliases is not None:
        _ALIASES[kind] = aliases


def handler_for(kind: str) -> ImportHandler:
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise ImportFileError(_("没有处理此类数据的导入程序。"))
    if isinstance(handler, str):
        module, _sep, attr = handler.rpartition(".")
        handler = getattr(import_module(module), attr)
    return handler


def aliases_for(kind: str) -> Mapping[str, str] | None:
    return _ALIASES.get(kind, {})


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
        data = fileobj.read()
        return max(0, data.count(b"\n" if isinstance(data, bytes) else "\n") - 1)
    except Exception:  # noqa: BLE001 - only an estimate; the import itself reports real errors
        return 0
    finally:
        fileobj.seek(0)
