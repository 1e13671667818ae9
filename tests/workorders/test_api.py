"""The work-order API: visibility (404), refusals (409 with a detail), every move as a POST action."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from units.models import User
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def url(order, action=""):
    return f"/api/v1/work-orders/{order.pk}/" + (f"{action}/" if action else "")


def test_it_answers_404_to_a_handler_of_another_station(api, order, handler2):
    client = api.as_user(handler2)
    assert client.get(url(order)).status_code == 404
    assert client.post(url(order, "sign")).status_code == 404
    assert client.get("/api/v1/work-orders/").json()["results"] == []
    order.refresh_from_db()
    assert order.status == "dispatched"


def test_it_refuses_anonymous_requests(client, order):
    assert client.get("/api/v1/work-orders/").status_code in (401, 403)
    assert client.post(url(order, "sign")).status_code in (401, 403)


def test_it_lists_the_users_orders_with_a_masked_phone(api, order, handler):
    body = api.as_user(handler).get("/api/v1/work-orders/").json()
    assert [r["number"] for r in body["results"]] == [order.number]
    assert body["results"][0]["citizen_phone_masked"] == "138****1234"
    assert "13800001234" not in str(body)


def test_it_runs_the_whole_loop_through_the_api(api, order, handler, center):
    unit = api.as_user(handler)
    r = unit.post(url(order, "sign"))
    assert r.status_code == 200 and r.json()["status"] == "signed"
    assert unit.post(url(order, "sign")).status_code == 200  # twice: one effect
    assert unit.post(url(order, "start")).status_code == 200
    photo = SimpleUploadedFile("现场照片.jpg", b"\xff\xd8\xff\xe0fakejpeg", content_type="image/jpeg")
    r = unit.post(
        url(order, "submit-feedback"),
        {"text": "已约谈店主并整改。", "result": "resolved", "contact_method": "phone", "attachments": [photo]},
        format="multipart",
    )
    assert r.status_code == 200, r.content
    assert order.attachments.count() == 1
    center_client = api.as_user(center)  # the same client, now as center staff
    assert center_client.post(url(order, "approve"), {}, format="json").status_code == 200
    r = center_client.post(url(order, "close"), {"reply": "已整改，感谢监督。"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    actions = [e["action"] for e in r.json()["events"]]
    assert actions[:6] == ["dispatch", "sign", "start", "submit_feedback", "approve", "close"]
    r = center_client.post(url(order, "reopen"), {"reason": "回访不满意"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "in_progress"


def test_it_answers_409_with_a_detail_when_the_state_refuses(api, order, center):
    r = api.as_user(center).post(url(order, "approve"), {}, format="json")
    assert r.status_code == 409
    assert "待签收" in r.json()["detail"]
    for action in ("close", "reopen", "approve-extension"):
        assert api.as_user(center).post(url(order, action), {"reason": "x"}, format="json").status_code == 409, action


def test_it_answers_403_when_the_role_may_not_move(api, order, handler):
    assert api.as_user(handler).post(url(order, "approve"), {}, format="json").status_code == 403


def test_it_answers_400_for_a_missing_reason(api, order, handler):
    api.as_user(handler).post(url(order, "sign"))
    r = api.as_user(handler).post(url(order, "hand-back"), {"reason": ""}, format="json")
    assert r.status_code == 400


def test_it_hands_back_sub_dispatches_and_extends_through_the_api(api, make_appeal, district, station, center, handler):
    from workorders import services

    order = services.dispatch_appeal(make_appeal(), unit=district, actor=center)
    boss = User.objects.create_user("jb_boss", role="unit_leader", unit=district)
    r = api.as_user(boss).post(url(order, "sub-dispatch"), {"unit": station.pk, "note": "请办理"}, format="json")
    assert r.status_code == 200 and r.json()["unit"] == station.pk
    unit = api.as_user(handler)
    unit.post(url(order, "sign"))
    assert (
        unit.post(url(order, "request-extension"), {"days": 2, "reason": "等待鉴定"}, format="json").status_code == 200
    )
    r = api.as_user(center).post(url(order, "refuse-extension"), {"reason": "应按期办结"}, format="json")
    assert r.status_code == 200 and r.json()["extension_state"] == "refused"
    r = api.as_user(handler).post(url(order, "hand-back"), {"reason": "不属于本所辖区"}, format="json")
    # Sub-dispatched by the district: it goes back to the district, not to the center.
    assert r.status_code == 200 and r.json()["status"] == "dispatched" and r.json()["unit"] == district.pk


def test_it_returns_for_rework_and_approves_an_extension(api, order, handler, center):
    unit = api.as_user(handler)
    unit.post(url(order, "sign"))
    unit.post(url(order, "request-extension"), {"days": 1, "reason": "当事人外出"}, format="json")
    r = api.as_user(center).post(url(order, "approve-extension"), {}, format="json")
    assert r.status_code == 200 and r.json()["extension_state"] == "approved"
    r = api.as_user(handler).post(
        url(order, "submit-feedback"), {"text": "已处理", "result": "partly", "contact_method": "visit"}, format="json"
    )
    assert r.status_code == 200
    r = api.as_user(center).post(url(order, "return"), {"reason": "未联系群众"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "returned"


def test_it_dispatches_from_the_appeal_api(api, appeal, station, center):
    r = api.as_user(center).post(f"/api/v1/appeals/{appeal.pk}/dispatch/", {"unit": station.pk}, format="json")
    assert r.status_code == 200, r.content
    assert WorkOrder.objects.filter(appeal=appeal, unit=station).count() == 1
    r = api.as_user(center).post(f"/api/v1/appeals/{appeal.pk}/dispatch/", {"unit": station.pk}, format="json")
    assert WorkOrder.objects.filter(appeal=appeal).count() == 1


def test_it_filters_listed_orders(api, order, make_appeal, station, center, supervisor):
    from workorders import services

    services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    r = api.as_user(supervisor).post(url(order, "list"), {"reason": "群众反复投诉"}, format="json")
    assert r.status_code == 200 and r.json()["is_listed"] is True
    body = api.as_user(center).get("/api/v1/work-orders/?is_listed=true").json()
    assert [x["id"] for x in body["results"]] == [order.pk]


def test_it_documents_the_moves_in_the_schema(api, center):
    schema = api.as_user(center).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for action in ("sign", "submit-feedback", "hand-back", "sub-dispatch", "request-extension", "reopen"):
        assert f"/api/v1/work-orders/{{id}}/{action}/" in schema
    assert '"409"' in schema or "'409'" in schema or "409:" in schema


def test_it_records_a_consultation_through_the_api(api, order, center, handler):
    from units.models import Unit

    units = list(Unit.objects.filter(code__in=["LJ020", "LJ040"]).values_list("pk", flat=True))
    payload = {"topic": "责任划分", "held_on": "2026-11-20", "departments": units, "decision": "交警支队牵头办理。"}
    assert api.as_user(handler).post(url(order, "consult"), payload, format="json").status_code == 403
    r = api.as_user(center).post(url(order, "consult"), payload, format="json")
    assert r.status_code == 200 and r.json()["consultations"][0]["topic"] == "责任划分"
    r = api.as_user(center).post(url(order, "consult"), {**payload, "departments": units[:1]}, format="json")
    assert r.status_code == 400


def test_it_lists_with_a_fixed_number_of_queries(api, make_appeal, station, other_station, center):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workorders import services

    services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    client = api.as_user(center)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/work-orders/").status_code == 200
    for _ in range(4):
        services.dispatch_appeal(make_appeal(), unit=station, actor=center, assisting_units=[other_station])
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/work-orders/").json()["results"]) == 5
    assert len(many) == len(few)


def test_it_pages_a_units_orders_newest_first_through_every_page(
    api, make_appeal, station, other_station, center, handler, handler2
):
    """A unit user's list is read in order from his unit's rows (PostgreSQL): page after page, the
    orders the visibility rule shows, newest first, each once, assisted ones included."""
    from workorders import services

    for i in range(7):
        lead, assisting = (station, []) if i % 2 else (other_station, [station] if i % 3 == 0 else [])
        services.dispatch_appeal(make_appeal(), unit=lead, actor=center, assisting_units=assisting)
    for user in (handler, handler2, center):
        client = api.as_user(user)
        seen, page = [], "/api/v1/work-orders/?page_size=2"
        while page:
            body = client.get(page).json()
            seen += [row["id"] for row in body["results"]]
            page = body["next"]
        rule = WorkOrder.objects.visible_to(user).order_by("-dispatched_at", "-id").values_list("pk", flat=True)
        assert seen == list(rule) and len(seen) >= 3, user.username


MOVES = [
    "sign", "start", "submit-feedback", "approve", "return", "hand-back", "sub-dispatch", "request-extension",
    "approve-extension", "refuse-extension", "close", "reopen", "list", "unlist", "consult",
]  # fmt: skip


@pytest.mark.parametrize("action", MOVES)
def test_it_refuses_every_move_without_login_and_hides_it_from_other_stations(api, order, handler2, action):
    assert api.post(url(order, action), {}, format="json").status_code in (401, 403)
    assert api.as_user(handler2).post(url(order, action), {}, format="json").status_code == 404
    order.refresh_from_db()
    assert order.status == "dispatched" and order.events.count() == 1


def test_it_reads_an_order_with_a_fixed_number_of_queries(api, order, handler, center):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workorders import services

    client = api.as_user(center)
    with CaptureQueriesContext(connection) as few:
        client.get(url(order))
    services.sign_for(order, actor=handler)
    services.start(order, actor=handler)
    services.request_extension(order, actor=handler, days=1, reason="等待材料")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url(order)).json()["events"]) == 4
    assert len(many) == len(few)
