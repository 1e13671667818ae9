"""The bodies of GeoReport v2 in both formats: the file extension chooses JSON or XML.

Every answer is a list of flat records (services, requests, errors) or, for a service
definition, one record holding a list. JSON writes them as they are; XML wraps the list in its
plural root and each record in its singular element, booleans as ``true``/``false`` and a missing
value as an empty element, as the spec's examples do.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping

from django.http import HttpResponse
from django.utils.xmlutils import SimplerXMLGenerator

FORMATS = ("json", "xml")


def _text(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _write(xml: SimplerXMLGenerator, name: str, value) -> None:
    if isinstance(value, list):
        # A list inside a record (a definition's attributes, an attribute's values).
        xml.startElement(name, {})
        singular = name[:-1] if name.endswith("s") else name
        for item in value:
            _write(xml, singular, item)
        xml.endElement(name)
    elif isinstance(value, Mapping):
        xml.startElement(name, {})
        for key, item in value.items():
            _write(xml, key, item)
        xml.endElement(name)
    else:
        xml.addQuickElement(name, _text(value))


def to_xml(root: str, item: str | None, body) -> bytes:
    """``<root><item>…</item>…</root>`` for a list, or ``<root>…fields…</root>`` for one record."""
    stream = io.StringIO()
    xml = SimplerXMLGenerator(stream, "utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement(root, {})
    records: Iterable = body if isinstance(body, list) else [body]
    for record in records:
        if item:
            xml.startElement(item, {})
        for key, value in record.items():
            _write(xml, key, value)
        if item:
            xml.endElement(item)
    xml.endElement(root)
    xml.endDocument()
    return stream.getvalue().encode("utf-8")


def respond(fmt: str, body, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    """The body in the chosen format, UTF-8, with the content type the spec names."""
    if fmt == "xml":
        return HttpResponse(to_xml(root, item, body), status=status, content_type="text/xml; charset=utf-8")
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
    )


def error(fmt: str, status: int, description: str) -> HttpResponse:
    """The spec's error body: ``[{"code": 400, "description": …}]`` or ``<errors><error>…``."""
    return respond(fmt, [{"code": status, "description": str(description)}], root="errors", item="error", status=status)
