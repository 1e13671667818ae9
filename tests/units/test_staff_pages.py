"""What every staff page of the demo city shows, read as an office worker reads it.

- No Django default widget: a select never offers "---------" (it says what the empty choice
  means: 全部, 请选择单位…) nor the "未知" of a yes/no/unknown select.
- An order number or an appeal's tracking code shown in a list, a notification or a detail page
  is a link to that object (the page's own number in its heading excepted).

Each page is opened by center staff, an administrator and a station leader (whose order pages offer
sub-dispatch), with an open new appeal and an order still to sign among them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.units.test_access_matrix import (  # noqa: F401 (fixtures)
    PAGES,
    PUBLIC,
    _demo_loaded,
    _fill,
    _html_urls,
    _objects,
    demo_city,
)
from units.models import User

pytestmark = pytest.mark.django_db
DEMO = pytest.mark.usefixtures("demo_city")

# Pages that are not screens: files, printed sheets (paper has no links), redirects and actions.
NOT_SCREENS = {
    "intake:export",
    "intake:attachment",
    "workorders:export",
    "workorders:review_export",
    "workorders:attachment",
    "surveys:rating_export",
    "surveys:record_export",
    "surveys:callback_export",
    "sms:outbox_export",
    "feeds:import-template",
    "feeds:batch-errors",
    "analytics:bulletin_excel",
    "analytics:bulletin_pdf",
    "javascript-catalog",
}
PRINTED = {
    "workorders:print_order",
    "workorders:print_supervision",
    "surveys:callback_print",
    "analytics:bulletin_print",
}


class _Page(HTMLParser):
    """Collects the options of every select, and the text shown outside links."""

    SKIPPED = {"title", "script", "style", "textarea", "option", "h1"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.options: list[str] = []
        self.unlinked: list[str] = []
        self._in_option = False
        self._links = 0
        self._skipped = 0

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._links += 1
        if tag in self.SKIPPED:
            self._skipped += 1
        if tag == "option":
            self._in_option = True
            self.options.append("")

    def handle_endtag(self, tag):
        if tag == "a":
            self._links = max(self._links - 1, 0)
        if tag in self.SKIPPED:
            self._skipped = max(self._skipped - 1, 0)
        if tag == "option":
            self._in_option = False

    def handle_data(self, data):
        if self._in_option:
            self.options[-1] += data.strip()
        elif not self._links and not self._skipped and data.strip():
            self.unlinked.append(data)


def _screens(objects):
    for route, name, pattern in _html_urls():
        page = PAGES.get(name)
        if page is None or page.access == PUBLIC or name in NOT_SCREENS:
            continue
        yield name, _fill(route, pattern, objects, page.kind)
    yield from _forms_of_open_items()


def _forms_of_open_items():
    """The pages whose forms only show while an item is open: a new appeal (triage, dispatch) on
    its page and in the desk's panel, and an order of the station still to sign (sub-dispatch)."""
    from intake.models import Appeal
    from workorders.models import WorkOrder

    new = Appeal.objects.filter(status="new").order_by("-pk").first()
    if new:
        yield "intake:appeal (new)", f"/appeals/{new.pk}/"
        yield "intake:desk (panel open)", f"/appeals/?open={new.pk}"
    waiting = WorkOrder.objects.filter(status="dispatched", unit__code="LJ101").order_by("-pk").first()
    if waiting:
        yield "workorders:detail (to sign)", f"/workorders/{waiting.pk}/"


def _render(client, path, **params):
    response = client.get(path, params, HTTP_HX_REQUEST="false")
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return None
    return response.content.decode()


@DEMO
@pytest.mark.parametrize("username", ["center", "admin", "leader"])
def test_no_select_offers_a_default_empty_label(client, username):
    client.force_login(User.objects.get(username=username))
    objects = _objects(User.objects.get(username="handler2"))
    found = []
    for name, path in _screens(objects):
        html = _render(client, path)
        if html is None:
            continue
        page = _Page()
        page.feed(html)
        bad = {o for o in page.options if o.strip("-") == "" and "-" in o or o in {"未知", "Unknown"}}
        if bad:
            found.append(f"{name} {path}: {sorted(bad)}")
    assert not found, "default widget labels:\n" + "\n".join(found)


def _numbers():
    from intake.models import Appeal
    from workorders.models import WorkOrder

    codes = set(Appeal.objects.values_list("tracking_code", flat=True))
    codes |= set(WorkOrder.objects.exclude(number=None).values_list("number", flat=True))
    return codes


@DEMO
def test_object_numbers_are_links(client):
    from intake.models import Appeal
    from workorders.models import WorkOrder

    client.force_login(User.objects.get(username="center"))
    objects = _objects(User.objects.get(username="handler2"))
    numbers = _numbers()
    pattern = re.compile(r"GD\d{13}|\b[0-9A-Z]{8}\b")
    own = {
        "appeal": lambda pk: Appeal.objects.get(pk=pk).tracking_code,
        "order": lambda pk: WorkOrder.objects.get(pk=pk).number,
    }
    found = []
    for name, path in _screens(objects):
        if name in PRINTED:
            continue
        html = _render(client, path)
        if html is None:
            continue
        page = _Page()
        page.feed(html)
        kind = PAGES[name].kind if name in PAGES else None
        mine = own[kind](objects[kind]) if kind in own else None
        for text in page.unlinked:
            for match in pattern.findall(text):
                if match in numbers and match != mine:
                    found.append(f"{name} {path}: {match} in {text.strip()[:60]!r}")
    assert not found, "numbers shown without a link:\n" + "\n".join(sorted(set(found)))


def test_the_link_scan_sees_what_it_should():
    page = _Page()
    page.feed(
        '<p>工单 GD2026120700001 已签收</p><a href="/x">GD2026120700002</a><select><option>---------</option></select>'
    )
    assert page.unlinked == ["工单 GD2026120700001 已签收"]
    assert page.options == ["---------"]


def test_it_serves_a_favicon_that_every_page_links(client, center):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    client.force_login(center)
    page = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/img/favicon\.svg"', page)
