"""The shared kernels in ``units``: role look-ups, the after-commit enqueue, the tabular reader,
the refusal and its display, the transition helper (on the appeal, the simplest state machine)."""

from __future__ import annotations

import io
import logging

import pytest
from celery import Celery
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import RequestFactory

from analytics.models import RankingEvent
from intake.choices import AppealStatus
from intake.models import Appeal, AppealEvent
from surveys.models import CallbackEvent, SurveyEvent
from units import roles
from units.app_modules import app_modules
from units.bulk import act_on_each, selected_ids
from units.choices import Role
from units.enqueue import call_once_after_commit, send_task, send_task_after_commit
from units.errors import Refused
from units.models import User
from units.refusals import refusal_text, show_refusal
from units.tabular import ImportFileError, read_rows
from units.transitions import transition

# --- roles --------------------------------------------------------------------------------------


def test_an_admin_is_the_admin_role_or_a_superuser_and_active(administrator, center, station):
    root = User.objects.create_user("root", is_superuser=True, role=Role.UNIT_HANDLER, unit=station)
    User.objects.create_user("gone", role=Role.ADMIN, is_active=False)
    assert set(roles.admins()) == {administrator, root}
    assert all(u.has_role(Role.ADMIN) for u in roles.admins())


def test_the_people_lookups_keep_to_active_users_of_the_role(center, leader, handler, supervisor, station):
    User.objects.create_user("retired", role=Role.UNIT_LEADER, unit=station, is_active=False)
    assert roles.center_staff() == [center]
    assert roles.leaders_of(station) == [leader]
    assert set(roles.handlers_of(station)) == {leader, handler}
    assert roles.supervisors() == [supervisor]


# --- enqueue ------------------------------------------------------------------------------------

# Not the current app: tasks declared with shared_task must keep resolving to the project's app.
unreachable = Celery("unreachable", broker="redis://127.0.0.1:1/2", set_as_current=False)
unreachable.conf.broker_connection_retry = False
unreachable.conf.broker_connection_max_retries = 0
unreachable.conf.broker_transport_options = {"max_retries": 0}


@unreachable.task(name="tests.kernel_probe")
def probe(pk):  # pragma: no cover - never runs: there is no broker
    return pk


def test_a_broker_outage_is_logged_not_raised(caplog):
    with caplog.at_level(logging.WARNING, logger="units.enqueue"):
        assert send_task(probe, 7) is False
    assert "tests.kernel_probe" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_task_is_sent_after_commit_and_the_transaction_survives_the_outage(caplog, city):
    with caplog.at_level(logging.WARNING, logger="units.enqueue"):
        with transaction.atomic():
            send_task_after_commit(probe, 8)
            Appeal.objects.create(title="t", content="c", unit=city)
            assert "kernel_probe" not in caplog.text  # nothing sent inside the transaction
    assert "tests.kernel_probe" in caplog.text
    assert Appeal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_for_a_rolled_back_row(caplog):
    with caplog.at_level(logging.WARNING, logger="units.enqueue"):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                send_task_after_commit(probe, 9)
                raise RuntimeError("rolled back")
    assert "kernel_probe" not in caplog.text


@pytest.mark.django_db
def test_a_wake_up_asked_for_by_every_row_of_a_batch_runs_once_after_commit(django_capture_on_commit_callbacks):
    calls = []

    def wake():
        calls.append(len(calls))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _row in range(3000):
            call_once_after_commit(wake)
        assert calls == []  # nothing before the commit
    assert len(callbacks) == 1
    assert calls == [0]


@pytest.mark.django_db
def test_a_rolled_back_savepoint_takes_its_wake_up_with_it_and_the_next_ask_adds_it_again(
    django_capture_on_commit_callbacks,
):
    calls = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                call_once_after_commit(lambda: calls.append("lost"))
                raise RuntimeError("rolled back")
        woken = calls.append
        with transaction.atomic():
            call_once_after_commit(lambda: woken("first"))
        call_once_after_commit(lambda: woken("another function, another wake-up"))
    assert len(callbacks) == 2
    assert calls == ["first", "another function, another wake-up"]


@pytest.mark.django_db
def test_a_failing_wake_up_is_logged_and_the_commit_stands(caplog, django_capture_on_commit_callbacks, city):
    def wake():
        raise ConnectionRefusedError("redis away")

    with caplog.at_level(logging.WARNING, logger="units.enqueue"):
        with django_capture_on_commit_callbacks(execute=True):
            call_once_after_commit(wake)
            Appeal.objects.create(title="t", content="c", unit=city)
    assert "wake" in caplog.text and "sweeper" in caplog.text
    assert Appeal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_once_goes_once_per_arguments_after_commit(caplog):
    with caplog.at_level(logging.WARNING, logger="units.enqueue"):
        with transaction.atomic():
            for _row in range(50):
                send_task_after_commit(probe, 10, once=True)
            send_task_after_commit(probe, 11, once=True)
    sent = [r.getMessage() for r in caplog.records if "tests.kernel_probe" in r.getMessage()]
    assert sorted(sent) == [
        "broker unavailable: tests.kernel_probe(10,) left for its sweeper",
        "broker unavailable: tests.kernel_probe(11,) left for its sweeper",
    ]


# --- tabular ------------------------------------------------------------------------------------


def test_the_reader_maps_headers_through_the_callers_aliases():
    data = "编号,Phone\nA-1,13800000001\n\nA-2,13800000002\n".encode("gb18030")
    rows = list(read_rows(io.BytesIO(data), filename="x.csv", aliases={"编号": "code"}))
    assert rows == [(2, {"code": "A-1", "phone": "13800000001"}), (4, {"code": "A-2", "phone": "13800000002"})]


def test_the_reader_refuses_an_old_excel_file():
    with pytest.raises(ImportFileError, match="xls"):
        list(read_rows(io.BytesIO(b""), filename="x.xls"))


# --- refusals -----------------------------------------------------------------------------------


def test_a_refusal_has_a_code_and_reads_as_its_message():
    assert (Refused("不行。").code, str(Refused("不行。", code="frozen").code)) == ("conflict", "frozen")
    assert str(Refused("不行。")) == "不行。"


def test_every_kind_of_refusal_reads_as_one_sentence():
    assert refusal_text(Refused("已办结。")) == "已办结。"
    assert refusal_text(ValidationError({"a": ["甲。"], "b": ["乙。"]})) == "甲。；乙。"
    assert refusal_text(PermissionDenied()) == "您无权执行该操作。"


def test_an_html_view_shows_the_refusal_as_an_error_message():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    show_refusal(request, Refused("工单已结束。"))
    [message] = list(get_messages(request))
    assert (message.message, message.level_tag) == ("工单已结束。", "error")


# --- transitions --------------------------------------------------------------------------------


@pytest.fixture
def appeal(city):
    return Appeal.objects.create(title="路灯不亮", content="路灯坏了", unit=city)


def test_a_move_saves_the_status_and_writes_one_timeline_row(appeal, center):
    transition(appeal, action="marked", actor=center, to=AppealStatus.PENDING_DISPATCH, sources={AppealStatus.NEW})
    transition(appeal, action="marked", actor=center, to=AppealStatus.PENDING_DISPATCH, sources={AppealStatus.NEW})
    assert Appeal.objects.get(pk=appeal.pk).status == appeal.status == AppealStatus.PENDING_DISPATCH
    [event] = appeal.events.all()
    assert (event.actor, event.from_status, event.to_status) == (
        center,
        AppealStatus.NEW,
        AppealStatus.PENDING_DISPATCH,
    )


def test_a_move_from_a_wrong_status_is_refused_and_writes_nothing(appeal, center):
    with pytest.raises(Refused):
        transition(appeal, action="x", actor=center, to=AppealStatus.CLOSED, sources={AppealStatus.DISPATCHED})
    assert not appeal.events.exists()


def test_permission_is_checked_on_the_locked_row(appeal, handler):
    with pytest.raises(PermissionDenied):
        transition(appeal, action="x", actor=handler, to=AppealStatus.CLOSED, may=lambda a: False)
    assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.NEW


def test_apply_changes_fields_and_its_details_go_to_the_timeline(appeal, center):
    def apply(locked):
        locked.public_reply = "已修复"
        return {"reply": True}

    transition(appeal, action="closed", actor=center, to=AppealStatus.CLOSED, apply=apply, note="完")
    assert Appeal.objects.get(pk=appeal.pk).public_reply == appeal.public_reply == "已修复"
    [event] = appeal.events.all()
    assert (event.note, event.data) == ("完", {"reply": True})


# --- timelines ----------------------------------------------------------------------------------


def test_every_timeline_row_reads_its_action_label_from_its_own_table_and_an_unknown_code_as_itself():
    assert CallbackEvent(action="rectify").action_label == "派发整改工单"
    assert SurveyEvent(action="open").action_label == "发送邀请短信"
    assert RankingEvent(action="publish").action_label == "发布"
    assert SurveyEvent(action="rectify").action_label == "rectify"  # another table's code
    assert AppealEvent(action="dispatch").action_label == "dispatch"  # the appeal's labels are intake's filter


# --- discovery by name --------------------------------------------------------------------------


def test_each_apps_module_of_a_name_is_found_in_installed_apps_order_and_an_app_without_it_passed_over():
    from django.apps import apps

    order = [c.name for c in apps.get_app_configs()]
    nav = [m.__name__ for m in app_modules("nav")]
    demo = [m.__name__ for m in app_modules("demo")]
    assert {"units.nav", "intake.nav", "sms.nav", "workorders.nav"} <= set(nav)
    assert nav == sorted(nav, key=lambda n: order.index(n.rsplit(".", 1)[0]))
    assert "units.demo" in demo and "sms.demo" not in demo  # the SMS layer has no demo data of its own
    assert app_modules("no_such_module") == []


# --- bulk actions -------------------------------------------------------------------------------


def test_the_ticked_ids_are_read_in_order_each_once_and_anything_else_passed_over():
    request = RequestFactory().post("/", {"ids": ["7", "x", "3", "7", "-1", "1" * 13, "5"]})
    assert selected_ids(request) == [7, 3, 5]
    assert selected_ids(request, limit=3) == [7, 3]


def test_each_row_is_acted_on_and_a_refusal_or_a_missing_row_is_reported_on_its_own_row():
    def act(row):
        if row == "frozen":
            raise ValidationError(["已冻结。", "请先解冻。"])
        if row == "forbidden":
            raise PermissionDenied
        return "已完成"

    rows = {1: "ok", 2: "frozen", 4: "forbidden"}
    results = act_on_each([1, 2, 3, 4], rows, act, key="number", label=str.upper, missing="不在您的范围内。")
    assert results == [
        {"pk": 1, "number": "OK", "ok": True, "text": "已完成"},
        {"pk": 2, "number": "FROZEN", "ok": False, "text": "已冻结。；请先解冻。"},
        {"pk": 3, "number": "#3", "ok": False, "text": "不在您的范围内。"},
        {"pk": 4, "number": "FORBIDDEN", "ok": False, "text": "您无权执行该操作。"},
    ]
