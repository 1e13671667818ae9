"""Every move of the work-order state machine: allowed once, idempotent twice, refused when the state says no."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from units.errors import Refused
from units.models import Notification, Unit, User
from workorders import services
from workorders.choices import Action, ExtensionState, WorkOrderStatus
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db
S = WorkOrderStatus


def events(order, action) -> int:
    return order.events.filter(action=action).count()


def feedback(order, user):
    return services.submit_feedback(
        order,
        actor=user,
        text="已上门核实，责令烧烤摊夜间停业，群众表示认可。",
        result="resolved",
        contact_method="phone",
    )


def test_it_dispatches_with_a_deadline_and_tells_the_unit(order, station, handler, leader, appeal):
    assert order.status == S.DISPATCHED
    assert order.number.startswith("GD")
    assert order.unit == station
    assert order.due_at > order.dispatched_at
    assert events(order, Action.DISPATCH) == 1
    assert Notification.objects.filter(user=handler, url__contains=str(order.pk)).count() == 1
    appeal.refresh_from_db()
    assert appeal.status == "dispatched" and appeal.unit == station


def test_it_dispatches_once_for_the_same_unit(appeal, station, center):
    first = services.dispatch_appeal(appeal, unit=station, actor=center)
    second = services.dispatch_appeal(appeal, unit=station, actor=center)
    assert first.pk == second.pk
    assert WorkOrder.objects.filter(appeal=appeal).count() == 1


def test_it_refuses_dispatch_by_a_unit_user(appeal, station, handler):
    with pytest.raises(PermissionDenied):
        services.dispatch_appeal(appeal, unit=station, actor=handler)


def test_it_follows_the_whole_loop_and_each_move_twice_has_one_effect(order, handler, center):
    for _ in range(2):
        services.sign_for(order, actor=handler)
    assert order.status == S.SIGNED and order.handler == handler
    for _ in range(2):
        services.start(order, actor=handler)
    assert order.status == S.IN_PROGRESS
    for _ in range(2):
        feedback(order, handler)
    assert order.status == S.FEEDBACK_SUBMITTED
    for _ in range(2):
        services.approve(order, actor=center)
    assert order.status == S.APPROVED
    for _ in range(2):
        services.close(order, actor=center, reply="已责令整改，感谢您的监督。")
    assert order.status == S.CLOSED and order.closed_on_time is True
    order.appeal.refresh_from_db()
    assert order.appeal.status == "closed"
    for action in (Action.SIGN, Action.START, Action.SUBMIT_FEEDBACK, Action.APPROVE, Action.CLOSE):
        assert events(order, action) == 1, action
    timeline = list(order.events.values_list("action", "from_status", "to_status"))
    assert timeline[:6] == [
        ("dispatch", "", "dispatched"),
        ("sign", "dispatched", "signed"),
        ("start", "signed", "in_progress"),
        ("submit_feedback", "in_progress", "feedback_submitted"),
        ("approve", "feedback_submitted", "approved"),
        ("close", "approved", "closed"),
    ]


def test_it_refuses_a_move_the_state_does_not_allow(order, handler, center):
    with pytest.raises(Refused) as exc:
        services.approve(order, actor=center)
    assert "待签收" in str(exc.value)
    with pytest.raises(Refused):
        services.close(order, actor=center, reply="已处理")
    assert order.events.count() == 1


def test_it_refuses_moves_by_the_wrong_people(order, handler2, center, handler):
    with pytest.raises(PermissionDenied):
        services.sign_for(order, actor=handler2)
    with pytest.raises(PermissionDenied):
        services.sign_for(order, actor=center)
    services.sign_for(order, actor=handler)
    feedback(order, handler)
    with pytest.raises(PermissionDenied):
        services.approve(order, actor=handler)


def test_it_returns_for_rework_with_a_new_deadline(order, handler, center):
    services.sign_for(order, actor=handler)
    feedback(order, handler)
    with pytest.raises(ValidationError):
        services.return_for_rework(order, actor=center, reason="  ")
    version = order.deadline_version
    for _ in range(2):
        services.return_for_rework(order, actor=center, reason="未说明整改时限，请补充。")
    assert order.status == S.RETURNED and order.return_count == 1
    assert order.deadline_version == version + 1
    assert events(order, Action.RETURN) == 1
    services.start(order, actor=handler)
    feedback(order, handler)
    assert order.status == S.FEEDBACK_SUBMITTED


def test_it_hands_back_a_misrouted_order_and_the_appeal_can_be_redispatched(order, handler, center, other_station):
    with pytest.raises(ValidationError):
        services.hand_back(order, actor=handler, reason="")
    for _ in range(2):
        services.hand_back(order, actor=handler, reason="地址属北湖派出所辖区。")
    assert order.status == S.HANDED_BACK and events(order, Action.HAND_BACK) == 1
    order.appeal.refresh_from_db()
    assert order.appeal.status == "pending_dispatch"
    again = services.dispatch_appeal(order.appeal, unit=other_station, actor=center)
    assert again.pk != order.pk and again.status == S.DISPATCHED


def test_it_lets_a_district_leader_sub_dispatch_to_a_station(appeal, district, station, center, leader, handler):
    order = services.dispatch_appeal(appeal, unit=district, actor=center)
    district_leader = User.objects.create_user(
        "jb_leader", role="unit_leader", unit=district, last_name="江", first_name="局长"
    )
    with pytest.raises(PermissionDenied):
        services.sub_dispatch(order, actor=handler, unit=station)  # a handler of the station cannot
    for _ in range(2):
        services.sub_dispatch(order, actor=district_leader, unit=station, note="请滨江所办理")
    assert order.unit == station and order.status == S.DISPATCHED
    assert events(order, Action.SUB_DISPATCH) == 1
    services.sign_for(order, actor=handler)
    assert order.status == S.SIGNED


def test_it_refuses_sub_dispatch_outside_the_leaders_units(order, leader, other_station):
    with pytest.raises(Refused):
        services.sub_dispatch(order, actor=leader, unit=other_station)


def test_it_extends_the_deadline_once_when_approved(order, handler, center):
    services.sign_for(order, actor=handler)
    with pytest.raises(Refused):
        services.approve_extension(order, actor=center)
    for _ in range(2):
        services.request_extension(order, actor=handler, days=3, reason="需调取监控，等待相关部门回复。")
    assert order.extension_state == ExtensionState.REQUESTED and events(order, Action.REQUEST_EXTENSION) == 1
    old_due = order.due_at
    for _ in range(2):
        services.approve_extension(order, actor=center)
    assert order.extension_state == ExtensionState.APPROVED
    assert order.due_at > old_due
    assert events(order, Action.APPROVE_EXTENSION) == 1


def test_it_refuses_an_extension_once(order, handler, center):
    services.sign_for(order, actor=handler)
    services.request_extension(order, actor=handler, days=2, reason="当事人外出")
    due = order.due_at
    for _ in range(2):
        services.refuse_extension(order, actor=center, reason="事项简单，应按期办结。")
    assert order.extension_state == ExtensionState.REFUSED and order.due_at == due
    assert events(order, Action.REFUSE_EXTENSION) == 1
    with pytest.raises(ValidationError):
        services.request_extension(order, actor=handler, days=0, reason="x")


def test_it_reopens_a_closed_order_when_dissatisfaction_is_upheld(order, handler, center):
    services.sign_for(order, actor=handler)
    feedback(order, handler)
    services.approve(order, actor=center)
    services.close(order, actor=center, reply="已处理")
    for _ in range(2):
        services.reopen(order, actor=center, reason="回访不满意：噪音仍在。")
    assert order.status == S.IN_PROGRESS and order.reopen_count == 1 and order.closed_at is None
    assert events(order, Action.REOPEN) == 1
    order.appeal.refresh_from_db()
    assert order.appeal.status == "dispatched"


def test_it_lists_only_what_the_user_sees(order, handler, handler2, leader, supervisor, district):
    assert WorkOrder.objects.visible_to(handler).filter(pk=order.pk).exists()
    assert WorkOrder.objects.visible_to(leader).filter(pk=order.pk).exists()
    assert not WorkOrder.objects.visible_to(handler2).filter(pk=order.pk).exists()
    assert WorkOrder.objects.visible_to(supervisor).filter(pk=order.pk).exists()


def test_it_shows_the_order_to_assisting_units(make_appeal, station, other_station, center, handler2):
    order = services.dispatch_appeal(make_appeal(), unit=station, actor=center, assisting_units=[other_station])
    assert WorkOrder.objects.visible_to(handler2).filter(pk=order.pk).count() == 1
    with pytest.raises(PermissionDenied):
        services.sign_for(order, actor=handler2)  # assisting units see, the lead unit acts


def test_it_records_a_consultation(order, center):
    units = list(Unit.objects.filter(code__in=["LJ020", "LJ040"]))
    with pytest.raises(ValidationError):
        services.record_consultation(
            order, actor=center, topic="x", held_on=order.dispatched_at.date(), departments=units[:1], decision="y"
        )
    record = services.record_consultation(
        order,
        actor=center,
        topic="责任单位不明确",
        held_on=order.dispatched_at.date(),
        departments=units,
        decision="由交警支队牵头，法制支队指导。",
    )
    assert record.departments.count() == 2
    assert events(order, Action.CONSULT) == 1


def test_it_refuses_a_second_lead_unit_while_an_order_is_open(order, other_station, center):
    with pytest.raises(Refused) as exc:
        services.dispatch_appeal(order.appeal, unit=other_station, actor=center)
    assert order.number in str(exc.value)


def test_it_refuses_to_dispatch_a_closed_appeal(order, handler, center, other_station):
    services.sign_for(order, actor=handler)
    feedback(order, handler)
    services.approve(order, actor=center)
    services.close(order, actor=center, reply="已办结")
    with pytest.raises(Refused):
        services.dispatch_appeal(order.appeal, unit=other_station, actor=center)


def test_it_lets_a_district_leader_move_an_order_between_his_stations(
    make_appeal, district, station, other_station, center
):
    order = services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    boss = User.objects.create_user("jb_chief", role="unit_leader", unit=district)
    services.sub_dispatch(order, actor=boss, unit=other_station, note="属北湖所辖区")
    assert order.unit == other_station and order.status == S.DISPATCHED
    with pytest.raises(Refused):
        services.sub_dispatch(order, actor=boss, unit=district)


def test_it_hands_a_sub_dispatched_order_back_to_the_unit_above(make_appeal, district, station, center, handler):
    order = services.dispatch_appeal(make_appeal(), unit=district, actor=center)
    boss = User.objects.create_user("jb_head", role="unit_leader", unit=district)
    services.sub_dispatch(order, actor=boss, unit=station)
    order.appeal.refresh_from_db()
    assert order.appeal.unit == station  # the station sees the appeal page too
    services.sign_for(order, actor=handler)
    services.hand_back(order, actor=handler, reason="该地址不在本所辖区")
    assert order.status == S.DISPATCHED and order.unit == district
    assert Notification.objects.filter(user=boss, dedupe_key__startswith="wo-handback:").count() == 1
    event = order.events.get(action=Action.HAND_BACK)
    assert (event.from_status, event.to_status) == ("signed", "dispatched")
    order.appeal.refresh_from_db()
    assert order.appeal.status == "dispatched" and order.appeal.unit == district
    # The district re-routes; a hand-back from there goes to the center.
    district_handler = User.objects.create_user("jb_handler", role="unit_handler", unit=district)
    services.hand_back(order, actor=district_handler, reason="非公安职责")
    services.hand_back(order, actor=district_handler, reason="非公安职责")
    assert order.status == S.HANDED_BACK and order.events.filter(action=Action.HAND_BACK).count() == 2
