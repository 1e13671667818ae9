"""The callback desk: calls, retries of unreached citizens, rectification orders, verdicts; the
API actions and who may see what."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from sms.inbound import receive_inbound
from sms.models import OutboundSms
from sms.outbox import send_one
from surveys.choices import CallbackStatus, CallbackVerdict, CallOutcome
from surveys.models import Callback, CallbackEvent
from surveys.services.callbacks import close_callback, open_rectification, record_call
from surveys.services.records import run_evaluation
from units.errors import Refused

pytestmark = pytest.mark.django_db


def test_it_retries_an_unreached_citizen_and_closes_after_the_maximum(callback, center, settings):
    settings.SURVEYS_CALLBACK_MAX_UNREACHED = 3
    settings.SURVEYS_CALLBACK_RETRY_HOURS = 2
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        record_call(callback, outcome=CallOutcome.NO_ANSWER, actor=center)
    callback.refresh_from_db()
    assert (callback.status, callback.unreached) == (CallbackStatus.PENDING, 1)
    assert callback.due_at == now + dt.timedelta(hours=2)
    record_call(callback, outcome=CallOutcome.NO_ANSWER, actor=center)
    record_call(callback, outcome=CallOutcome.NO_ANSWER, actor=center)
    callback.refresh_from_db()
    assert (callback.status, callback.verdict) == (CallbackStatus.CLOSED, CallbackVerdict.UNRESOLVED)
    with pytest.raises(Refused):
        record_call(callback, outcome=CallOutcome.NO_ANSWER, actor=center)
    assert callback.calls.count() == 3


def test_it_opens_one_rectification_order_for_a_reasonable_complaint(callback, center, station):
    from workorders.models import WorkOrder

    with pytest.raises(Refused):
        open_rectification(callback, actor=center)  # nobody reached yet
    record_call(callback, outcome=CallOutcome.REACHED, actor=center, reason="报警后40分钟民警才到", is_reasonable=True)
    open_rectification(callback, actor=center)
    open_rectification(callback, actor=center)
    callback.refresh_from_db()
    order = WorkOrder.objects.get(appeal=callback.rectification_appeal)
    assert WorkOrder.objects.count() == 1
    assert callback.rectification_order_id == order.pk
    assert order.unit == station
    assert order.working_days == 5
    assert callback.rectification_appeal.channel == "callback"
    assert "报警后40分钟民警才到" in callback.rectification_appeal.content
    assert callback.rectification_appeal.citizen_phone == "+8613800001234"
    close_callback(callback, verdict=CallbackVerdict.RESOLVED, actor=center, note="已道歉并整改")
    close_callback(callback, verdict=CallbackVerdict.RESOLVED, actor=center)
    with pytest.raises(Refused):
        close_callback(callback, verdict=CallbackVerdict.UNRESOLVED, actor=center)
    assert CallbackEvent.objects.filter(callback=callback, action="close").count() == 1


def test_it_lists_the_desk_by_due_time_for_center_staff_only(client, callback, center, handler, supervisor):
    client.force_login(center)
    page = client.get("/surveys/callbacks/").content.decode()
    assert "民警没来" in page
    assert client.get(f"/surveys/callbacks/{callback.pk}/").status_code == 200
    client.force_login(handler)
    assert client.get("/surveys/callbacks/").status_code == 403
    assert client.get(f"/surveys/callbacks/{callback.pk}/").status_code == 403
    client.force_login(supervisor)
    assert client.get("/surveys/callbacks/").status_code == 200
    assert (
        client.post(f"/surveys/callbacks/{callback.pk}/", {"action": "close", "verdict": "resolved"}).status_code == 403
    )


def test_it_runs_the_callback_flow_from_the_desk_page(client, callback, center):
    client.force_login(center)
    url = f"/surveys/callbacks/{callback.pk}/"
    missing_reason = client.post(url, {"action": "call", "outcome": "reached"})
    assert "请记录群众反映的不满意原因" in missing_reason.content.decode()
    client.post(url, {"action": "call", "outcome": "reached", "reason": "出警慢", "is_reasonable": "1"})
    client.post(url, {"action": "rectify", "note": ""})
    client.post(url, {"action": "close", "verdict": "explained", "note": ""})
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CLOSED
    assert callback.rectification_order_id
    assert callback.verdict == CallbackVerdict.EXPLAINED


def test_it_acts_on_callbacks_through_the_api(api, callback, center, supervisor):
    base = f"/api/v1/callbacks/{callback.pk}"
    assert api.as_user(supervisor).post(f"{base}/close/", {"verdict": "resolved"}, format="json").status_code == 403
    client = api.as_user(center)
    assert client.post(f"{base}/rectify/", {}, format="json").status_code == 409
    assert client.post(f"{base}/record-call/", {"outcome": "maybe"}, format="json").status_code == 400
    reached = client.post(
        f"{base}/record-call/", {"outcome": "reached", "reason": "态度差", "is_reasonable": True}, format="json"
    )
    assert reached.status_code == 200 and reached.json()["status"] == "reached"
    rectified = client.post(f"{base}/rectify/", {}, format="json")
    assert rectified.status_code == 200 and rectified.json()["rectification_order_id"]
    assert client.post(f"{base}/close/", {"verdict": "resolved"}, format="json").status_code == 200
    assert client.post(f"{base}/close/", {"verdict": "unresolved"}, format="json").status_code == 409
    listed = client.get("/api/v1/callbacks/").json()["results"]
    assert listed[0]["rating"]["verdict"] == "dissatisfied"


def test_it_hides_other_units_ratings_and_evaluations_from_unit_users(api, callback, handler, handler2, leader):
    assert len(api.as_user(handler).get("/api/v1/ratings/").json()["results"]) == 1
    assert api.as_user(handler2).get("/api/v1/ratings/").json()["results"] == []
    rating_id = callback.rating_id
    assert api.as_user(handler2).get(f"/api/v1/ratings/{rating_id}/").status_code == 404
    sms_id = callback.rating.sms_id
    assert api.as_user(handler2).get(f"/api/v1/evaluations/{sms_id}/").status_code == 404
    evaluation = api.as_user(leader).get(f"/api/v1/evaluations/{sms_id}/").json()
    assert evaluation["phone"] == "138****1234" and evaluation["rating"] == rating_id
    assert api.as_user(handler).get("/api/v1/callbacks/").status_code == 403
    api.force_authenticate(user=None)
    for url in ("/api/v1/ratings/", "/api/v1/evaluations/", "/api/v1/callbacks/", "/api/v1/service-records/"):
        assert api.get(url).status_code in (401, 403)


def test_it_renders_every_staff_page_for_its_roles(client, callback, center, supervisor, administrator, handler):
    client.force_login(center)
    for url in ("/surveys/", "/surveys/ratings/", "/surveys/records/", "/surveys/reviews/", "/sms/outbox/", "/"):
        assert client.get(url).status_code == 200, url
    assert "待人工回访" in client.get("/").content.decode()
    from analytics import aggregates

    aggregates.refresh_marked()  # the minute job: the overview's rating figures are the kept ones
    overview = client.get("/surveys/").content.decode()
    assert "滨江派出所" in overview and "0.0%" in overview  # one dissatisfied rating of that station
    client.force_login(supervisor)
    assert "今日满意度" in client.get("/").content.decode()
    assert client.get("/sms/opt-outs/").status_code == 403
    client.force_login(administrator)
    assert client.get("/sms/opt-outs/").status_code == 200
    client.post("/sms/opt-outs/", {"phone": "13800007777", "note": "来电要求"})
    assert "138****7777" in client.get("/sms/opt-outs/").content.decode()
    history = client.post("/surveys/phone-history/", {"phone": "13800001234"}).content.decode()
    assert "民警没来" in history
    for model in (
        "sms/smstemplate",
        "surveys/businesstype",
        "surveys/evaluationrun",
        "sms/outboundsms",
        "sms/inboundsms",
        "sms/optout",
        "surveys/callback",
    ):
        page = client.get(f"/admin/{model}/")
        assert page.status_code == 200, model
        assert "13800001234" not in page.content.decode()
    assert client.get(f"/admin/sms/outboundsms/{callback.rating.sms_id}/change/").status_code == 200
    client.force_login(handler)
    assert client.get("/surveys/ratings/").status_code == 200
    assert client.get("/surveys/").status_code == 403


def test_it_lists_with_a_fixed_number_of_queries(api, center, always_open, make_record, django_assert_max_num_queries):
    for i in range(6):
        make_record(phone=f"1380000{i:04d}")
    run_evaluation()
    for i, sms in enumerate(OutboundSms.objects.all()):
        send_one(sms.pk)
        receive_inbound(provider="simulator", message_id=f"SIM-{i}", phone=sms.phone, body="3 太慢")
    assert Callback.objects.count() == 6
    client = api.as_user(center)
    for url in ("/api/v1/callbacks/", "/api/v1/ratings/", "/api/v1/evaluations/", "/api/v1/service-records/"):
        with django_assert_max_num_queries(4):
            assert len(client.get(url).json()["results"]) == 6


def test_it_reveals_the_phone_for_the_call_to_center_staff_and_records_it(client, callback, center, supervisor):
    url = f"/surveys/callbacks/{callback.pk}/reveal-phone/"
    client.force_login(supervisor)
    assert client.post(url, {"reason": "回访"}).status_code == 403
    client.force_login(center)
    page = client.get(f"/surveys/callbacks/{callback.pk}/").content.decode()
    assert "138****1234" in page and "13800001234" not in page
    assert "13800001234" in client.post(url, {"reason": "回访不满意群众"}).content.decode()
    assert CallbackEvent.objects.filter(callback=callback, action="reveal_phone", actor=center).count() == 1


def test_it_tells_center_staff_once_about_an_overdue_callback(callback, center, settings):
    from surveys.services.callbacks import warn_overdue_callbacks
    from surveys.tasks import warn_overdue_callbacks_task

    assert warn_overdue_callbacks() == 0
    later = callback.due_at + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert warn_overdue_callbacks() == 1
        assert warn_overdue_callbacks_task() == 1
    assert center.notifications.filter(text__contains="已超过回访时限").count() == 1
    with time_machine.travel(later, tick=False):
        record_call(callback, outcome=CallOutcome.NO_ANSWER, actor=center)  # due again in two hours
    with time_machine.travel(later + dt.timedelta(hours=3), tick=False):
        warn_overdue_callbacks()
    assert center.notifications.filter(text__contains="已超过回访时限").count() == 2


def test_the_desk_finds_a_callback_by_the_citizens_full_number_or_its_number(client, callback, center):
    client.force_login(center)

    def listed(q):
        response = client.get("/surveys/callbacks/", {"q": q})
        assert response.status_code == 200
        return [c.pk for c in response.context["object_list"]]

    assert listed("13800001234") == [callback.pk]
    assert listed("138 0000 1234") == [callback.pk]
    assert listed("13800009999") == []
    assert listed(f"#{callback.pk}") == [callback.pk]
    assert listed("民警没来") == [callback.pk]


def test_the_home_panel_lines_read_no_number(rf, callback, center, django_assert_num_queries):
    """The panel's eight lines show the due time, the unit and the rating's words: the rating's
    number (a decryption each) and the SMS, business type and assignee are not read."""
    from surveys.selectors import callbacks_due_panel

    request = rf.get("/")
    request.user = center
    with django_assert_num_queries(3):  # the lines, the open count, the overdue count
        panel = callbacks_due_panel(request)
    (line,) = panel["items"]
    assert line.pk == callback.pk and line.unit_id == callback.unit_id
    assert "phone" in line.rating.get_deferred_fields()
    assert "assigned_to" not in line._state.fields_cache
    assert not {"sms", "business_type"} & set(line.rating._state.fields_cache)
