"""The header aliases of appeal files and the registry of import handlers per kind of data.

Files are read by the platform's one reader, ``units.tabular.read_rows`` (re-exported here with
``ImportFileError`` and ``estimate_rows`` for the callers that import them from feeds).

The registry is a plug-in point: an app that imports its own kind of data through ImportBatch,
the runner and the report page registers its handler from its ``AppConfig.ready`` (feeds
registers "appeals" the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from units.tabular import ImportFileError, estimate_rows, missing_columns, read_rows

__all__ = [
    "APPEAL_FIELD_LABELS",
    "APPEAL_HEADER_ALIASES",
    "ImportFileError",
    "ImportHandler",
    "ImportOutcome",
    "RowError",
    "aliases_for",
    "estimate_rows",
    "handler_for",
    "missing_columns",
    "read_rows",
    "register_import_handler",
]

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

_HANDLERS: dict[str, str | ImportHandler] = {}
_ALIASES: dict[str, Mapping[str, str]] = {}


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
        # A dotted path, as surveys still registers its handler; a callable is the way to register.
        handler = import_string(handler)
    return handler


def aliases_for(kind: str) -> Mapping[str, str] | None:
    return _ALIASES.get(kind, {})
