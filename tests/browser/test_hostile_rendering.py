"""Script and HTML injection stored in every text a citizen or an officer can write, shown on every
page that displays it, in real Chromium: no dialog ever opens, no injected element appears, and
each string reads back as plain text."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from intake.models import Appeal
from intake.phones import phone_hash
from tests.corpus import RENDERING

pytestmark = pytest.mark.django_db(transaction=True)

EVERYTHING = "\n".join(RENDERING)
# Elements or attributes that would only be there if one of the strings had been parsed as HTML.
# The pages' own submit buttons carry formaction with a local path (the workspace's bulk buttons);
# an injected one carries javascript:, so only a formaction that is not a local path counts.
INJECTED = (
    "img[src=x], iframe, embed, object, marquee, keygen, base, math, "
    "[onerror], [onload], [onfocus], [ontoggle], [onbegin], [onstart], [formaction]:not([formaction^='/'])"
)


@pytest.fixture
def hostile(city, station, center, handler):
    """Appeals, a work order, a callback and a closed appeal whose every text is hostile."""
    from surveys.models import Callback, Rating
    from surveys.services.callbacks import record_call
    from workorders.services import dispatch_appeal, return_for_rework, sign_for, start, submit_feedback

    appeals = []
    for i in range(4):  # four citizens, one matter, one place: a hotspot on the dashboard
        phone = f"+861380000{i + 41:04d}"
        appeals.append(
            Appeal.objects.create(
                channel="mayor_mailbox",
                title=RENDERING[i][:120],
                content=EVERYTHING,
                address=RENDERING[i + 4][:200],
                citizen_name=RENDERING[i + 8][:60],
                citizen_phone=phone,
                citizen_phone_hash=phone_hash(phone),
                severity="yellow",
                status="new",
                received_at=timezone.now() - dt.timedelta(hours=i + 1),
            )
        )
    order = dispatch_appeal(appeals[0], unit=station, actor=center, note=EVERYTHING)
    sign_for(order, actor=handler)
    start(order, actor=handler)
    submit_feedback(order, actor=handler, text=EVERYTHING, result="resolved", contact_method="phone")
    return_for_rework(order, actor=center, reason=EVERYTHING)
    submit_feedback(order, actor=handler, text=EVERYTHING, result="resolved", contact_method="phone")

    rating = Rating.objects.create(
        verdict="dissatisfied",
        unit=station,
        text=RENDERING[12][:500],
        phone="+8613800000451",
        phone_hash=phone_hash("+8613800000451"),
    )
    callback = Callback.objects.create(rating=rating, unit=station, due_at=timezone.now() + dt.timedelta(days=1))
    record_call(callback, outcome="reached", actor=center, reason=EVERYTHING, note=RENDERING[13][:500])

    closed = Appeal.objects.create(
        channel="mayor_mailbox",
        content="小区门口违停",
        citizen_phone="+8613800000461",
        citizen_phone_hash=phone_hash("+8613800000461"),
        status="new",
    )
    from intake.services import close_appeal

    close_appeal(closed, actor=center, reply=EVERYTHING)
    return {"appeals": appeals, "order": order, "callback": callback, "closed": closed}


def _watch(page) -> list[str]:
    dialogs: list[str] = []

    def record(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    return dialogs


def _check(page, url: str, dialogs: list[str], texts: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.title(), url
    assert page.locator(INJECTED).count() == 0, f"{url}: an injected element is in the page"
    shown = page.evaluate("document.body.textContent")
    missing = [t for t in texts if t not in shown]
    assert not missing, f"{url}: not shown as text: {missing[:5]}"
    assert not dialogs, f"{url}: {dialogs}"


def test_hostile_strings_stay_text_on_every_staff_page(signed_in, live_server, hostile):
    appeals, order, callback = hostile["appeals"], hostile["order"], hostile["callback"]
    base = live_server.url

    _ctx, page = signed_in("center")
    dialogs = _watch(page)
    titles = [a.title for a in appeals]
    _check(page, f"{base}/appeals/?status=all", dialogs, titles)
    for appeal in appeals[1:]:
        _check(page, f"{base}/appeals/{appeal.pk}/", dialogs, [appeal.title, appeal.address, *RENDERING])
    _check(page, f"{base}/workorders/{order.pk}/", dialogs, RENDERING)
    _check(page, f"{base}/workorders/review/", dialogs, [])
    _check(page, f"{base}/surveys/callbacks/", dialogs, [])
    _check(page, f"{base}/surveys/callbacks/{callback.pk}/", dialogs, [*RENDERING, callback.rating.text])
    _check(page, f"{base}/analytics/", dialogs, [])
    hotspots = page.locator("[data-testid=hotspots]")
    assert hotspots.count() == 1 and hotspots.inner_text().strip()

    _ctx, page = signed_in("handler")
    dialogs = _watch(page)
    _check(page, f"{base}/workorders/", dialogs, [])
    _check(page, f"{base}/workorders/{order.pk}/", dialogs, RENDERING)


def test_hostile_reply_stays_text_on_the_public_tracking_page(phone_page, live_server, hostile):
    closed = hostile["closed"]
    dialogs = _watch(phone_page)
    phone_page.goto(f"{live_server.url}/track/")
    phone_page.fill("#id_code", closed.tracking_code)
    phone_page.fill("#id_phone", "13800000461")
    phone_page.locator("form button[type=submit]").first.click()
    phone_page.wait_for_load_state("networkidle")
    assert "已办结" in phone_page.content()
    assert phone_page.locator(INJECTED).count() == 0
    shown = phone_page.evaluate("document.body.textContent")
    assert [t for t in RENDERING if t not in shown] == []
    assert not dialogs
