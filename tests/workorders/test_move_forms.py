"""No typed input is lost: every move's form comes back in place with its errors and the text kept."""

from __future__ import annotations

import re

import pytest

from units.models import Unit
from workorders import services

pytestmark = pytest.mark.django_db

LONG = "群众反映夜市烧烤油烟扰民，已约谈摊主并现场核查，整改情况如下：第一条、第二条、第三条。"


def _form(page: str, name: str, pk: int) -> str:
    """The HTML of one move's form on the page."""
    found = re.search(rf'<form[^>]*id="move-{name}-{pk}".*?</form>', page, re.S)
    assert found, f"form {name} not on the page"
    return found.group(0)


def _post(client, order, name, data, htmx=False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/workorders/{order.pk}/{name}/", data, **headers)


@pytest.fixture
def signed(order, handler):
    services.sign_for(order, actor=handler)
    return order


@pytest.fixture
def submitted(signed, handler):
    services.submit_feedback(signed, actor=handler, text="已整改", result="resolved", contact_method="phone")
    return signed


@pytest.mark.parametrize("htmx", [False, True])
def test_a_feedback_refused_by_validation_keeps_its_text_beside_the_error(client, signed, handler, htmx):
    client.force_login(handler)
    r = _post(client, signed, "submit-feedback", {"text": LONG, "result": "", "contact_method": "phone"}, htmx)
    assert r.status_code == (200 if htmx else 422)
    form = _form(r.content.decode(), "submit-feedback", signed.pk)
    assert LONG in form
    assert 'data-testid="field-error"' in form
    signed.refresh_from_db()
    assert signed.status == "signed"


def test_a_feedback_refused_by_the_service_keeps_its_text(client, signed, handler):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(handler)
    bad = SimpleUploadedFile("脚本.exe", b"MZ", content_type="application/octet-stream")
    r = client.post(
        f"/workorders/{signed.pk}/submit-feedback/",
        {"text": LONG, "result": "resolved", "contact_method": "phone", "attachments": [bad]},
    )
    form = _form(r.content.decode(), "submit-feedback", signed.pk)
    assert LONG in form and "不支持的附件类型" in form


def test_a_domain_refusal_is_shown_beside_the_form_with_the_text_kept(client, signed, handler, center):
    # The order was handed back meanwhile (another tab): the feedback is refused, the text stays.
    services.hand_back(signed, actor=handler, reason="非本单位辖区")
    client.force_login(handler)
    r = _post(client, signed, "submit-feedback", {"text": LONG, "result": "resolved", "contact_method": "phone"})
    page = r.content.decode()
    form = _form(page, "submit-feedback", signed.pk)
    assert LONG in form
    assert 'data-testid="move-error"' in form


@pytest.mark.parametrize(
    ("name", "data", "kept"),
    [
        ("hand-back", {"reason": ""}, None),
        ("request-extension", {"days": "99", "reason": "需协调城管联合执法，时间较长"}, "需协调城管联合执法，时间较长"),
    ],
)
def test_unit_moves_come_back_with_errors_and_text(client, signed, handler, name, data, kept):
    client.force_login(handler)
    r = _post(client, signed, name, data)
    assert r.status_code == 422
    page = r.content.decode()
    form = _form(page, name, signed.pk)
    assert 'data-testid="field-error"' in form
    if kept:
        assert kept in form
    # The form is open (inside an opened <details>), not folded away.
    assert re.search(rf"<details open><summary>[^<]*</summary>\s*<form[^>]*id=\"move-{name}-", page)


def test_return_keeps_the_reason_and_the_other_reason_forms_stay_empty(client, submitted, center):
    client.force_login(center)
    r = _post(client, submitted, "return", {"reason": "现场照片不清晰，请补充", "working_days": "0"})
    page = r.content.decode()
    assert "现场照片不清晰，请补充" in _form(page, "return", submitted.pk)
    assert "现场照片不清晰，请补充" not in page.replace(_form(page, "return", submitted.pk), "")


def test_extension_approval_and_refusal_keep_their_text(client, signed, handler, center, settings):
    services.request_extension(signed, actor=handler, days=3, reason="需协调")
    client.force_login(center)
    r = _post(
        client,
        signed,
        "approve-extension",
        {"days": str(settings.WORKORDERS_MAX_EXTENSION_DAYS + 1), "note": "同意部分"},
    )
    assert "同意部分" in _form(r.content.decode(), "approve-extension", signed.pk)
    r = _post(client, signed, "refuse-extension", {"reason": ""})
    assert 'data-testid="field-error"' in _form(r.content.decode(), "refuse-extension", signed.pk)


def test_supervision_listing_keeps_its_reason_when_refused(client, signed, supervisor):
    client.force_login(supervisor)
    r = _post(client, signed, "list", {"reason": "   "})
    assert 'data-testid="field-error"' in _form(r.content.decode(), "list", signed.pk)


def test_a_consultation_says_it_needs_two_units_and_keeps_the_decision(client, signed, center, station):
    client.force_login(center)
    page = client.get(f"/workorders/{signed.pk}/").content.decode()
    assert "至少选择两个单位" in _form(page, "consult", signed.pk)  # said before it is hit
    assert "data-unit-picker" in _form(page, "consult", signed.pk)
    r = _post(
        client,
        signed,
        "consult",
        {"topic": "油烟扰民职责划分", "held_on": "2026-03-02", "departments": [station.pk], "decision": "由城管牵头"},
    )
    form = _form(r.content.decode(), "consult", signed.pk)
    assert "联合会商至少需要两个单位参加" in form
    assert "油烟扰民职责划分" in form and "由城管牵头" in form
    assert re.search(rf'<option value="{station.pk}" selected>', form)


def test_a_sub_dispatch_refusal_keeps_the_note(client, order, leader, station):
    Unit.objects.create(name="滨江警务室", code="BJ-JWS", tier="station", parent=station)
    client.force_login(leader)
    page = client.get(f"/workorders/{order.pk}/").content.decode()
    assert 'data-move="sub-dispatch"' in page
    r = _post(client, order, "sub-dispatch", {"unit": "", "note": "请警务室上门核实"})
    assert r.status_code == 422
    assert "请警务室上门核实" in _form(r.content.decode(), "sub-dispatch", order.pk)


def test_the_forms_say_their_rules_before_they_are_hit(client, signed, handler, settings):
    client.force_login(handler)
    page = client.get(f"/workorders/{signed.pk}/").content.decode()
    assert f"最多 {settings.WORKORDERS_MAX_EXTENSION_DAYS} 个工作日" in _form(page, "request-extension", signed.pk)
    assert f"最多 {settings.WORKORDERS_ATTACHMENT_MAX_FILES} 个" in _form(page, "submit-feedback", signed.pk)


def test_a_successful_htmx_move_reloads_the_page_where_the_user_was(client, signed, handler):
    client.force_login(handler)
    r = _post(
        client,
        signed,
        "submit-feedback",
        {"text": "已处理", "result": "resolved", "contact_method": "phone", "next": "/workorders/?tab=in_progress"},
        htmx=True,
    )
    assert r.status_code == 204 and r["HX-Redirect"] == "/workorders/?tab=in_progress"
