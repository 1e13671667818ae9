"""Limits on JSON request bodies: size first, then nesting depth, then ``json.loads``.

Python's JSON decoder recurses once per ``[`` or ``{``: a body of a thousand nested brackets raises
RecursionError, which no view catches (a 500, and under DEBUG the traceback page), and anyone can
send one to the token endpoint. DRF's own JSONParser also reads the stream to its end whatever
its size, past DATA_UPLOAD_MAX_MEMORY_SIZE (that limit only guards ``request.body`` and forms).

``LimitedJSONParser`` is the default parser of the API (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"])
and of the feed pushes; ``loads_limited`` does the same for views that read ``request.body``
themselves. Limits (settings):

* ``API_JSON_MAX_BYTES`` — a JSON body above it answers 413 (checked on the declared length
  before reading, and again on what is read);
* ``API_JSON_MAX_DEPTH`` — nesting above it answers 400, found by a scan without recursion.

A string holding half of a UTF-16 surrogate pair (``"\\ud800"``) answers 400 too: it cannot be
encoded to UTF-8, so storing it would fail with a 500 wherever no serializer field refuses it.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json

# A JSON string: a quote, then runs of plain characters or backslash escapes, then a quote. The
# unrolled form (no alternation per character) keeps the scan linear on long strings.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = _("请求体过大。")


def too_large_message(limit: int) -> str:
    return str(_("请求体过大：JSON 请求体不能超过 %(limit)s 字节。") % {"limit": f"{limit:,}"})


def too_deep_message(limit: int) -> str:
    return str(_("JSON 嵌套层数超过 %(limit)d 层，已拒绝。") % {"limit": limit})


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when the brackets of ``text`` outside JSON strings nest deeper than ``limit``.

    No recursion and no per-character Python loop: strings are cut out by a regular expression,
    every other character but brackets is dropped, and the running depth is an ``accumulate`` in C.
    An unterminated string leaves its quote behind and its brackets counted; such a text is not
    JSON anyway and is refused either way.
    """
    brackets = _BRACKETS.sub("", _STRING.sub("", text))
    if brackets.count("[") + brackets.count("{") <= limit:
        return False  # the depth cannot exceed the number of opening brackets
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def loads_limited(raw: bytes | str, *, encoding: str = "utf-8", strict: bool = True):
    """``json.loads`` after the size and depth checks (RequestTooLarge, ParseError)."""
    limit = settings.API_JSON_MAX_BYTES
    if len(raw) > limit:
        raise RequestTooLarge(too_large_message(limit))
    try:
        text = raw.decode(encoding) if isinstance(raw, bytes) else raw
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(_("请求体不是有效的 %(encoding)s 文本。") % {"encoding": encoding}) from exc
    depth = settings.API_JSON_MAX_DEPTH
    if json_depth_exceeds(text, depth):
        raise ParseError(too_deep_message(depth))
    try:
        data = drf_json.loads(text, parse_constant=drf_json.strict_constant if strict else None)
    except (ValueError, RecursionError) as exc:
        raise ParseError(_("JSON 格式错误：%(error)s") % {"error": exc}) from exc
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(data):
        raise ParseError(_("JSON 中含有不成对的 UTF-16 代理字符，不是有效的文本，已拒绝。"))
    return data


# Only a \u escape can put a surrogate into decoded JSON (the UTF-8 decoding above refuses encoded
# ones); the escape check keeps the full test off ordinary bodies.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(data) -> bool:
    """True when a key or string of ``data`` holds a surrogate that is not half of a pair.

    Python's decoder joins a valid pair into one character and keeps a lone half as is; such a
    string cannot be encoded to UTF-8, so PostgreSQL (and any serializer without its own check,
    e.g. the service-record push) would fail with a 500 further on.
    """
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def declared_length(meta) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the size cap and the depth check in front of the decoder."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.API_JSON_MAX_BYTES
        request = parser_context.get("request")
        if request is not None and declared_length(request.META) > limit:
            raise RequestTooLarge(too_large_message(limit))
        # Read one byte more than allowed: enough to know it is too much, never the whole of it.
        raw = stream.read(limit + 1) if stream is not None else b""
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        return loads_limited(raw, encoding=encoding, strict=self.strict)
