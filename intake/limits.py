"""The longest text each field of an appeal may hold, one table for every entry.

12345 and 12389 work orders carry a title of a few dozen characters and a content that rarely
passes 2,000 characters (their own forms stop at 2,000–4,000); a 30,000-character "appeal" is a
pasted document or an attack, and every step after intake (similarity, search, pages, SMS) pays
for its length. The limits are those of the database columns where there is one, and 5,000
characters for the content. The staff hotline form, the appeals API, the feed pushes and the
CSV/XLSX imports refuse a longer value with a message naming the field and the limit; the public
mailboxes keep a tighter content limit of their own (``MAILBOX_CONTENT_MAX_CHARS``).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

APPEAL_FIELD_LIMITS: dict[str, int] = {
    "external_id": 64,  # the column
    "title": 120,  # the column
    "content": 5000,
    "address": 200,  # the column
    "citizen_name": 60,  # the column
    "citizen_phone": 40,  # as typed, before normalisation
    "category_hint": 100,  # the column
}

# A letter typed on a phone: a citizen's own account, not a forwarded file.
MAILBOX_CONTENT_MAX_CHARS = 3000

APPEAL_FIELD_NAMES = {
    "external_id": _("来源编号"),
    "title": _("标题"),
    "content": _("诉求内容"),
    "address": _("地址"),
    "citizen_name": _("诉求人"),
    "citizen_phone": _("联系电话"),
    "category_hint": _("分类"),
}


def _too_long(name, limit: int) -> str:
    return _("%(field)s不能超过%(limit)d个字符。") % {"field": name, "limit": limit}


# Lazy: forms and serializers build their messages at import, before any language is active.
_too_long_lazy = lazy(_too_long, str)


def too_long_message(field: str, limit: int | None = None, *, name=None):
    """The refusal naming the field and its limit, e.g. 诉求内容不能超过5000个字符。(lazy)."""
    limit = APPEAL_FIELD_LIMITS[field] if limit is None else limit
    return _too_long_lazy(name or APPEAL_FIELD_NAMES[field], limit)


def limit_kwargs(field: str, *, limit: int | None = None, name=None) -> dict:
    """``max_length`` and its message, for a Django form field or a DRF serializer field alike."""
    limit = APPEAL_FIELD_LIMITS[field] if limit is None else limit
    return {"max_length": limit, "error_messages": {"max_length": too_long_message(field, limit, name=name)}}


def length_errors(data: Mapping[str, object]) -> dict[str, str]:
    """Field → message for every text in ``data`` longer than its limit (fields not given pass)."""
    errors = {}
    for field, limit in APPEAL_FIELD_LIMITS.items():
        value = data.get(field)
        if isinstance(value, str) and len(value.strip()) > limit:
            errors[field] = str(too_long_message(field, limit))
    return errors
