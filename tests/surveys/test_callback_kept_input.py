"""The callback record form keeps what was typed when it is refused: the page (or, for htmx, the
form) comes back bound with the errors beside the fields, as the work-order moves do."""

from __future__ import annotations

import pytest

from surveys.choices import CallbackStatus
from surveys.services.callbacks import close_callback

pytestmark = pytest.mark.django_db

NOTE = "群众说夜里两点才有民警到场，要求说明原因"


def test_it_keeps_the_typed_note_beside_the_missing_reason(client, callback, center):
    client.force_login(center)
    response = client.post(
        f"/surveys/callbacks/{callback.pk}/", {"action": "call", "outcome": "reached", "note": NOTE, "reason": ""}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert NOTE in page
    assert 'data-testid="field-error"' in page and "请记录群众反映的不满意原因" in page
    assert callback.calls.count() == 0


def test_it_keeps_the_text_when_the_callback_was_closed_meanwhile(client, callback, center):
    close_callback(callback, actor=center, verdict="explained", note="")
    client.force_login(center)
    response = client.post(
        f"/surveys/callbacks/{callback.pk}/",
        {"action": "call", "outcome": "reached", "reason": "出警慢", "note": NOTE},
        headers={"HX-Request": "true"},
    )
    # htmx swaps only a successful answer: 200 with the page, whose form it picks out.
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="callback-call"' in page
    assert NOTE in page and "出警慢" in page
    assert "不能再登记通话" in page


def test_it_goes_back_to_the_filtered_desk_after_a_call(client, callback, center):
    client.force_login(center)
    back = "/surveys/callbacks/?status=pending&q=%E6%B0%91%E8%AD%A6"
    desk = client.get(back)
    assert f"/surveys/callbacks/{callback.pk}/?back=" in desk.content.decode()
    page = client.get(f"/surveys/callbacks/{callback.pk}/", {"back": back})
    assert f'href="{back.replace("&", "&amp;")}"' in page.content.decode()
    done = client.post(
        f"/surveys/callbacks/{callback.pk}/",
        {"action": "call", "outcome": "reached", "reason": "出警慢", "back": back},
    )
    assert done.status_code == 302
    assert done["Location"].startswith(f"/surveys/callbacks/{callback.pk}/?back=")
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.REACHED
    # A foreign address is never a way back.
    page = client.get(f"/surveys/callbacks/{callback.pk}/", {"back": "https://evil.example/"})
    assert '<a href="/surveys/callbacks/" data-testid="back-to-list">' in page.content.decode()
