"""Staff pages: the unit workspace, the order page and its moves, center review, listed orders, appeal panel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workorders import services
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_it_shows_the_unit_workspace_in_tabs_with_counts(client, order, handler):
    client.force_login(handler)
    page = client.get("/workorders/").content.decode()
    assert order.number in page
    assert 'data-tab="to_sign"' in page
    page = client.get("/workorders/?tab=in_progress").content.decode()
    assert order.number not in page


def test_it_hides_another_stations_order_from_lists_and_answers_404(client, order, handler2):
    client.force_login(handler2)
    assert order.number not in client.get("/workorders/?tab=all").content.decode()
    assert client.get(f"/workorders/{order.pk}/").status_code == 404
    assert client.post(f"/workorders/{order.pk}/sign/").status_code == 404


def test_it_shows_the_order_page_with_a_masked_phone_and_the_timeline(client, order, handler):
    client.force_login(handler)
    page = client.get(f"/workorders/{order.pk}/").content.decode()
    assert "138****1234" in page and "13800001234" not in page
    assert 'data-action="dispatch"' in page
    assert 'data-move="sign"' in page
    assert 'data-move="approve"' not in page


def test_it_moves_an_order_through_the_pages(client, order, handler, center):
    client.force_login(handler)
    r = client.post(f"/workorders/{order.pk}/sign/")
    assert r.status_code == 302
    r = client.post(
        f"/workorders/{order.pk}/submit-feedback/",
        {"text": "已到场处理，噪音已消除。", "result": "resolved", "contact_method": "phone"},
    )
    order.refresh_from_db()
    assert order.status == "feedback_submitted"
    client.force_login(center)
    review = client.get("/workorders/review/").content.decode()
    assert order.number in review
    client.post(f"/workorders/{order.pk}/approve/", {"next": "/workorders/review/"})
    r = client.post(f"/workorders/{order.pk}/close/", {"reply": ""})
    assert r.status_code == 422  # the public reply is never the feedback by default
    client.post(f"/workorders/{order.pk}/close/", {"reply": "噪音问题已处理，感谢监督。", "confirm": "on"})
    order.refresh_from_db()
    assert order.status == "closed" and order.reply_text == "噪音问题已处理，感谢监督。"


def test_it_shows_a_refusal_as_a_chinese_message(client, order, center):
    client.force_login(center)
    r = client.post(f"/workorders/{order.pk}/approve/", follow=True)
    assert "不能审核通过" in r.content.decode()


def test_it_rejects_a_forbidden_attachment_type(client, order, handler):
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.sign_for(order, actor=handler)
    client.force_login(handler)
    bad = SimpleUploadedFile("脚本.exe", b"MZ", content_type="application/octet-stream")
    r = client.post(
        f"/workorders/{order.pk}/submit-feedback/",
        {"text": "已处理", "result": "resolved", "contact_method": "phone", "attachments": [bad]},
        follow=True,
    )
    assert "不支持的附件类型" in r.content.decode()
    order.refresh_from_db()
    assert order.status == "signed"


def test_it_marks_listed_orders_in_lists_and_has_a_listed_page(client, order, supervisor, handler):
    services.list_order(order, actor=supervisor, reason="群众多次投诉")
    client.force_login(handler)
    assert 'class="listed' in client.get("/workorders/?tab=all").content.decode()
    client.force_login(supervisor)
    page = client.get("/workorders/listed/").content.decode()
    assert order.number in page and "群众多次投诉" in page


def test_it_dispatches_from_the_appeal_panel(client, appeal, station, center):
    client.force_login(center)
    r = client.post(f"/workorders/dispatch/{appeal.pk}/", {"unit": station.pk, "note": "请核实"})
    order = WorkOrder.objects.get(appeal=appeal)
    assert r.status_code == 302 and r["Location"] == f"/workorders/{order.pk}/"


def test_it_refuses_dispatch_to_unit_users(client, appeal, station, handler):
    client.force_login(handler)
    assert client.post(f"/workorders/dispatch/{appeal.pk}/", {"unit": station.pk}).status_code == 403


def test_it_shows_home_panels_per_role(client, order, handler, center, supervisor, administrator):
    for user, marker in [
        (handler, "workorders-unit"),
        (center, "workorders-center"),
        (supervisor, "workorders-supervisor"),
        (administrator, "workorders-admin"),
    ]:
        client.force_login(user)
        assert f'data-panel="{marker}"' in client.get("/").content.decode(), user.username


def test_it_renders_the_appeal_panel_with_the_proposed_unit(rf, appeal, station, center):
    from units.navigation import panels_for
    from workorders.models import JurisdictionRule

    JurisdictionRule.objects.create(pattern="滨江路", unit=station)
    request = rf.get("/")
    request.user = center
    panel = next(p for p in panels_for("APPEAL_PANELS", center) if p.template == "workorders/_appeal_panel.html")
    ctx = panel.context(request, appeal)
    assert ctx["proposed"] == station and ctx["form"].initial["unit"] == station.pk


def test_it_lists_with_a_fixed_number_of_queries(client, make_appeal, station, center):
    for _ in range(3):
        services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    client.force_login(center)
    with CaptureQueriesContext(connection) as few:
        client.get("/workorders/?tab=all")
    for _ in range(5):
        services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    with CaptureQueriesContext(connection) as many:
        client.get("/workorders/?tab=all")
    assert len(many) == len(few)


def test_it_pages_the_workspace_by_keyset(client, make_appeal, station, center, handler, monkeypatch):
    from workorders import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    numbers = [services.dispatch_appeal(make_appeal(), unit=station, actor=center).number for _ in range(5)]
    client.force_login(handler)
    seen, url = [], "/workorders/?tab=to_sign"
    while url:
        response = client.get(url if url.startswith("/") else f"/workorders/{url}")
        orders = response.context["orders"]
        assert len(orders) <= 2
        seen += [o.number for o in orders]
        url = response.context["next_url"]
    assert sorted(seen) == sorted(numbers) and len(seen) == 5


def test_it_serves_attachments_only_to_those_who_see_the_order(client, order, handler, handler2, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    services.sign_for(order, actor=handler)
    photo = SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff\xe0photo", content_type="image/jpeg")
    services.submit_feedback(
        order, actor=handler, text="已处理", result="resolved", contact_method="phone", attachments=[photo]
    )
    item = order.attachments.get()
    client.force_login(handler)
    response = client.get(f"/workorders/attachments/{item.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\xff\xd8\xff\xe0photo"
    client.force_login(handler2)
    assert client.get(f"/workorders/attachments/{item.pk}/").status_code == 404


def test_it_shows_handed_back_orders_to_the_center_for_re_dispatch(client, order, handler, center):
    services.hand_back(order, actor=handler, reason="不属本所辖区")
    client.force_login(center)
    page = client.get("/workorders/?tab=handed_back").content.decode()
    assert order.number in page
    detail = client.get(f"/workorders/{order.pk}/").content.decode()
    assert "重新派单" in detail and f"/appeals/{order.appeal_id}/" in detail


def test_it_approves_and_closes_from_the_review_page_with_the_confirmed_reply(client, order, handler, center):
    services.sign_for(order, actor=handler)
    services.submit_feedback(order, actor=handler, text="已整改完毕", result="resolved", contact_method="phone")
    client.force_login(center)
    data = {"reply": "已整改完毕，感谢监督。", "confirm": "on", "next": "/workorders/review/"}
    client.post(f"/workorders/{order.pk}/approve-close/", data)
    client.post(f"/workorders/{order.pk}/approve-close/", data)
    order.refresh_from_db()
    assert order.status == "closed" and order.reply_text == "已整改完毕，感谢监督。"
    assert list(order.events.values_list("action", flat=True)) == [
        "dispatch",
        "sign",
        "submit_feedback",
        "approve",
        "close",
        "notify_citizen",
    ]


def test_it_answers_404_for_an_unknown_move_and_explains_a_refused_dispatch(client, order, center, other_station):
    client.force_login(center)
    assert client.post(f"/workorders/{order.pk}/teleport/").status_code == 404
    r = client.post(
        f"/workorders/dispatch/{order.appeal_id}/", {"unit": other_station.pk, "next": "/workorders/"}, follow=True
    )
    assert "已有办理中的工单" in r.content.decode()


def test_a_units_closed_and_all_tabs_page_through_its_orders_in_the_tabs_order(
    client, make_appeal, station, other_station, center, handler
):
    """已办结 and 全部 of a station, page after page (keyset ``?after=``): the orders the visibility
    rule shows in the tab's order, each once (on PostgreSQL read from the station's ordered rows)."""
    from datetime import timedelta

    from django.utils import timezone

    from workorders.views import PAGE_SIZE

    orders = [  # every fourth led by another station and assisted by this one
        services.dispatch_appeal(make_appeal(), unit=station, actor=center)
        if i % 4
        else services.dispatch_appeal(make_appeal(), unit=other_station, actor=center, assisting_units=[station])
        for i in range(PAGE_SIZE + 12)
    ]
    start = timezone.now() - timedelta(days=30)
    for i, order in enumerate(orders[: PAGE_SIZE + 6]):  # a shared close time too: the id breaks the tie
        WorkOrder.objects.filter(pk=order.pk).update(status="closed", closed_at=start + timedelta(hours=i // 2))
    client.force_login(handler)
    for tab, ordering in (("closed", ("-closed_at", "-id")), ("all", ("-dispatched_at", "-id"))):
        seen, page = [], f"/workorders/?tab={tab}"
        while page:
            response = client.get(page)
            assert response.status_code == 200
            seen += [o.pk for o in response.context["orders"]]
            page = response.context["next_url"] and f"/workorders/{response.context['next_url']}"
        rule = WorkOrder.objects.visible_to(handler)
        rule = rule.filter(status="closed") if tab == "closed" else rule
        expected = list(rule.order_by(*ordering).values_list("pk", flat=True))
        assert seen == expected and len(seen) > PAGE_SIZE, tab
