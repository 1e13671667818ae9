"""The appeals API: visibility, create (idempotent), the triage actions and their refusals."""

import pytest
from django.urls import reverse

from intake import services
from intake.choices import AppealStatus
from intake.models import Appeal, PhoneReveal

pytestmark = pytest.mark.django_db

LIST = "/api/v1/appeals/"


def action(appeal, name):
    return f"/api/v1/appeals/{appeal.pk}/{name}/"


def test_it_refuses_anonymous_users(client, make_appeal):
    appeal = make_appeal()
    assert client.get(LIST).status_code in (401, 403)
    assert client.get(f"{LIST}{appeal.pk}/").status_code in (401, 403)
    assert client.post(LIST, {"channel": "hotline", "content": "x"}).status_code in (401, 403)


def test_it_hides_other_units_appeals_by_list_and_by_id(
    api, make_appeal, center, handler, handler2, station, other_station
):
    mine = make_appeal(content="滨江辖区的诉求")
    theirs = make_appeal(content="北湖辖区的诉求")
    undispatched = make_appeal(content="尚未派单的诉求")
    services.mark_dispatched(mine, unit=station, actor=center)
    services.mark_dispatched(theirs, unit=other_station, actor=center)

    ids = {row["id"] for row in api.as_user(handler).get(LIST).json()["results"]}
    assert ids == {mine.pk}
    assert api.get(f"{LIST}{mine.pk}/").status_code == 200
    assert api.get(f"{LIST}{theirs.pk}/").status_code == 404
    assert api.get(f"{LIST}{undispatched.pk}/").status_code == 404
    assert api.post(action(theirs, "reveal-phone"), {"reason": "核实"}, format="json").status_code == 404

    ids = {row["id"] for row in api.as_user(handler2).get(LIST).json()["results"]}
    assert ids == {theirs.pk}
    ids = {row["id"] for row in api.as_user(center).get(LIST).json()["results"]}
    assert {mine.pk, theirs.pk, undispatched.pk} <= ids


def test_it_lets_a_leader_see_his_subtree_and_a_district_user_see_its_stations(
    api, make_appeal, center, leader, station, district
):
    appeal = make_appeal()
    services.mark_dispatched(appeal, unit=station, actor=center)
    assert api.as_user(leader).get(f"{LIST}{appeal.pk}/").status_code == 200


def test_it_refuses_triage_actions_to_unit_users(api, make_appeal, center, handler, station):
    appeal = make_appeal()
    services.mark_dispatched(appeal, unit=station, actor=center)
    client = api.as_user(handler)
    assert client.post(action(appeal, "triage"), {"severity": "red"}, format="json").status_code == 403
    assert client.post(action(appeal, "close"), {"reply": "好"}, format="json").status_code == 403
    assert client.post(LIST, {"channel": "hotline", "content": "x"}, format="json").status_code == 403


def test_it_never_shows_the_full_phone_in_the_api(api, make_appeal, center):
    appeal = make_appeal(citizen_phone="13800008888")
    body = api.as_user(center).get(f"{LIST}{appeal.pk}/").content.decode()
    assert "13800008888" not in body and "8613800008888" not in body
    assert api.get(f"{LIST}{appeal.pk}/").json()["citizen_phone_masked"] == "138****8888"


def test_it_creates_once_per_external_id_and_per_idempotency_key(api, center, categories):
    client = api.as_user(center)
    payload = {
        "channel": "12389",
        "external_id": "J-77",
        "content": "反映民警执法态度粗暴",
        "citizen_phone": "13800003333",
    }
    first = client.post(LIST, payload, format="json")
    assert first.status_code == 201, first.content
    again = client.post(LIST, payload, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

    hotline = {"channel": "hotline", "content": "咨询无犯罪记录证明怎么开", "kind": "consultation"}
    a = client.post(LIST, hotline, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    b = client.post(LIST, hotline, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert a.status_code == 201 and b.status_code == 200 and a.json()["id"] == b.json()["id"]
    assert Appeal.objects.filter(content=hotline["content"]).count() == 1
    c = client.post(LIST, hotline, format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    assert c.status_code == 201


def test_it_answers_bad_input_with_400_in_chinese(api, center):
    client = api.as_user(center)
    bad_phone = client.post(LIST, {"channel": "hotline", "content": "内容", "citizen_phone": "abc"}, format="json")
    assert bad_phone.status_code == 400
    assert "电话号码格式不正确" in str(bad_phone.json())
    assert client.post(LIST, {"channel": "fax", "content": "内容"}, format="json").status_code == 400


def test_it_runs_the_triage_actions_and_refuses_with_409(api, make_appeal, center, categories):
    client = api.as_user(center)
    appeal = make_appeal()
    original = make_appeal(content="另一件:身份证补办")
    r = client.post(
        action(appeal, "triage"),
        {"kind": "consultation", "severity": "orange", "category": categories["HOUSEHOLD-ID"].pk},
        format="json",
    )
    assert r.status_code == 200 and r.json()["severity"] == "orange" and r.json()["severity_colour"] == "#f57c00"
    r = client.post(action(appeal, "mark-for-dispatch"), {"note": "需派出所处理"}, format="json")
    assert r.json()["status"] == AppealStatus.PENDING_DISPATCH
    assert client.post(action(appeal, "close"), {}, format="json").status_code == 400
    r = client.post(action(appeal, "close"), {"reply": "已电话答复群众。"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == AppealStatus.CLOSED
    # Closed: it cannot be merged nor triaged any more.
    r = client.post(action(appeal, "merge"), {"into": original.pk}, format="json")
    assert r.status_code == 409 and "不能变更为" in r.json()["detail"]
    assert client.post(action(appeal, "triage"), {"severity": "red"}, format="json").status_code == 409
    duplicate = make_appeal()
    assert client.post(action(duplicate, "merge"), {"into": 999999}, format="json").status_code == 404
    r = client.post(action(duplicate, "merge"), {"into": original.pk}, format="json")
    assert r.status_code == 200 and r.json()["merged_into"] == original.pk


def test_it_dispatches_through_the_work_orders_app(api, make_appeal, center, station, other_station):
    pytest.importorskip("workorders.services")
    appeal = make_appeal()
    client = api.as_user(center)
    body = {"unit": station.pk, "assisting_units": [other_station.pk], "note": "请核查"}
    r = client.post(action(appeal, "dispatch"), body, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == AppealStatus.DISPATCHED and r.json()["unit"] == station.pk
    # A unit that does not exist is named in the body: 404, the field saying which.
    missing = client.post(action(appeal, "dispatch"), {"unit": 999999}, format="json")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found" and "unit" in missing.json()
    merged = make_appeal()
    services.merge_appeal(merged, into=appeal, actor=center)
    r = client.post(action(merged, "dispatch"), {"unit": station.pk}, format="json")
    assert r.status_code == 409 and r.json()["detail"]


def test_it_logs_reveals_and_shows_the_log_to_administrators_only(
    api, client, make_appeal, center, administrator, supervisor
):
    appeal = make_appeal(citizen_phone="13800009999")
    r = api.as_user(supervisor).post(action(appeal, "reveal-phone"), {"reason": "督察核实"}, format="json")
    assert r.status_code == 200 and r.json() == {"phone": "13800009999"}
    log = PhoneReveal.objects.get()
    assert log.user == supervisor and log.appeal == appeal and log.ip == "127.0.0.1"
    assert api.as_user(center).get("/api/v1/phone-reveals/").status_code == 403
    rows = api.as_user(administrator).get("/api/v1/phone-reveals/").json()["results"]
    assert [row["tracking_code"] for row in rows] == [appeal.tracking_code]
    client.force_login(administrator)
    page = client.get(reverse("intake:phone_reveals")).content.decode()
    assert appeal.tracking_code in page and supervisor.display_name in page
    assert "13800009999" not in page


def test_it_filters_the_list_like_the_desk(api, make_appeal, center, categories):
    noisy = make_appeal(content="广场舞音响噪音扰民,晚上十点还不停", category=categories["ORDER-NOISE"])
    make_appeal(channel="12345", content="电动车被盗,请求查找", category=categories["ORDER"])
    client = api.as_user(center)
    assert [r["id"] for r in client.get(LIST, {"q": "广场舞音响"}).json()["results"]] == [noisy.pk]
    assert [
        r["id"] for r in client.get(LIST, {"category": categories["ORDER"].pk, "channel": "hotline"}).json()["results"]
    ] == [noisy.pk]
    assert client.get(LIST, {"severity": "purple"}).status_code == 400


def test_it_documents_the_actions_with_their_errors(api, center):
    schema = api.as_user(center).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for name in ("dispatch", "merge", "close", "triage", "mark-for-dispatch", "reveal-phone"):
        assert f"/api/v1/appeals/{{id}}/{name}/" in paths
    responses = paths["/api/v1/appeals/{id}/close/"]["post"]["responses"]
    assert {"200", "400", "404", "409"} <= set(responses)


def test_it_lists_with_a_fixed_number_of_queries(api, make_appeal, center, handler, station, categories):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(user) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.as_user(user).get(LIST).status_code == 200
        return len(ctx)

    for _ in range(3):
        services.mark_dispatched(make_appeal(category=categories["ORDER-NOISE"]), unit=station, actor=center)
    few = (cost(center), cost(handler))
    for _ in range(12):
        services.mark_dispatched(make_appeal(category=categories["FRAUD"]), unit=station, actor=center)
    assert (cost(center), cost(handler)) == few


def test_it_takes_attachments_through_the_api(api, make_appeal, center, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    appeal = make_appeal()
    client = api.as_user(center)
    ok = client.post(
        action(appeal, "attachments"),
        {"file": SimpleUploadedFile("a.amr", b"#!AMR\n" + b"\x00" * 20)},
        format="multipart",
    )
    assert ok.status_code == 201 and ok.json()["type"] == "audio"
    bad = client.post(
        action(appeal, "attachments"), {"file": SimpleUploadedFile("a.gif", b"GIF89a")}, format="multipart"
    )
    assert bad.status_code == 400 and "不支持的文件类型" in bad.json()["detail"]


def test_it_gives_the_timeline_to_those_who_see_the_appeal(api, make_appeal, center, handler, handler2, station):
    appeal = make_appeal()
    services.mark_dispatched(appeal, unit=station, actor=center)
    rows = api.as_user(handler).get(action(appeal, "timeline")).json()
    assert [r["action"] for r in rows] == ["received", "dispatched"]
    assert rows[1]["actor_name"] == center.display_name and rows[1]["to_status"] == "dispatched"
    assert api.as_user(handler2).get(action(appeal, "timeline")).status_code == 404


def test_it_finds_a_callers_appeals_by_a_number_in_the_body(api, make_appeal, center, handler):
    mine = make_appeal(citizen_phone="13800004455")
    make_appeal(citizen_phone="13800004456")
    url = "/api/v1/appeals/caller-history/"
    rows = api.as_user(center).post(url, {"phone": "138-0000-4455"}, format="json").json()
    assert [r["id"] for r in rows] == [mine.pk] and rows[0]["citizen_phone_masked"] == "138****4455"
    assert api.post(url, {"phone": "12"}, format="json").json() == []  # no number, no history
    assert api.as_user(handler).post(url, {"phone": "13800004455"}, format="json").status_code == 403
