"""Unit scoping stored on the rows (``scope_units``) shows every unit exactly what the rule shows.

The rule (``holders_condition``): an appeal is seen from its lead unit's subtree and from the
subtree of every unit holding one of its work orders, lead or assisting; a work order from the
subtree of its lead or an assisting unit. The column must follow every move that changes a unit:
dispatch, re-dispatch after a hand-back, hand-back to the sub-dispatching unit, sub-dispatch, and
assisting units added or removed later.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from intake import services as intake_services
from intake.models import Appeal, AppealScopeEntry
from units.choices import Role
from units.models import Unit, User
from workorders import services
from workorders.models import ScopeEntry, WorkOrder

pytestmark = pytest.mark.django_db


def _as(unit: Unit) -> User:
    return User(username=f"probe{unit.pk}", role=Role.UNIT_HANDLER, unit=unit)


def _assert_same_as_rule(label: str) -> None:
    for unit in Unit.objects.all():
        user = _as(unit)
        stored = set(Appeal.objects.visible_to(user).values_list("pk", flat=True))
        rule = set(Appeal.objects.filter(Appeal.objects.holders_condition(unit)).values_list("pk", flat=True))
        assert stored == rule, (label, unit.name, "appeals")
        stored = set(WorkOrder.objects.visible_to(user).values_list("pk", flat=True))
        rule = set(WorkOrder.objects.filter(WorkOrder.objects.holders_condition(unit)).values_list("pk", flat=True))
        assert stored == rule, (label, unit.name, "orders")
    _assert_entries_mirror_the_orders(label)
    _assert_entries_mirror_the_appeals(label)


def _assert_entries_mirror(label: str, source, entries, key: str, fields: tuple[str, ...]) -> None:
    """The ordered lists' rows (``entries``, written by ``source``'s table's triggers) are one per
    element of each row's ``scope_units``, with the row's status and sort keys (``fields``)."""
    if connection.vendor != "postgresql":
        assert not entries.objects.exists()  # the demo's lists read the rule itself
        return
    expected = {
        (row.pk, unit_id, *(getattr(row, f) for f in fields))
        for row in source.objects.all()
        for unit_id in row.scope_units
    }
    stored = set(entries.objects.values_list(key, "unit_id", *fields))
    assert stored == expected, (label, stored ^ expected)


def _assert_entries_mirror_the_orders(label: str) -> None:
    fields = ("status", "dispatched_at", "closed_at", "updated_at", "due_at")
    _assert_entries_mirror(label, WorkOrder, ScopeEntry, "order_id", fields)


def _assert_entries_mirror_the_appeals(label: str) -> None:
    fields = ("status", "severity_rank", "received_at")
    _assert_entries_mirror(label, Appeal, AppealScopeEntry, "appeal_id", fields)


@pytest.fixture
def district_leader(district) -> User:
    return User.objects.create_user("district_leader", role=Role.UNIT_LEADER, unit=district, password="x")


def test_the_stored_scope_follows_every_move_that_changes_a_unit(
    make_appeal, center, handler, handler2, leader, station, other_station, district, district_leader
):
    far_station = Unit.objects.get(name="南门派出所")
    untouched = make_appeal()
    _assert_same_as_rule("nothing dispatched")

    assisted = make_appeal()
    services.dispatch_appeal(assisted, unit=station, actor=center, assisting_units=[far_station])
    _assert_same_as_rule("dispatch with an assisting unit")
    assert Appeal.objects.visible_to(_as(far_station)).filter(pk=assisted.pk).exists()

    # Handed back to the center, then re-dispatched elsewhere: the first station keeps its old order.
    rerouted = make_appeal()
    first = services.dispatch_appeal(rerouted, unit=station, actor=center)
    services.hand_back(first, actor=handler, reason="不属于本所辖区")
    _assert_same_as_rule("hand-back to the center")
    services.dispatch_appeal(rerouted, unit=other_station, actor=center)
    _assert_same_as_rule("re-dispatch")
    assert set(Appeal.objects.visible_to(handler2).values_list("pk", flat=True)) >= {rerouted.pk}

    # To the district, sub-dispatched to a station, handed back up to the district.
    routed = make_appeal()
    order = services.dispatch_appeal(routed, unit=district, actor=center)
    services.sub_dispatch(order, actor=district_leader, unit=other_station, note="请北湖所办理")
    _assert_same_as_rule("sub-dispatch")
    assert Appeal.objects.visible_to(handler2).filter(pk=routed.pk).exists()
    services.sub_dispatch(order, actor=district_leader, unit=station, note="改由滨江所办理")
    _assert_same_as_rule("sub-dispatch from one station to another")
    assert not WorkOrder.objects.visible_to(handler2).filter(pk=order.pk).exists()
    services.hand_back(order, actor=handler, reason="不属于本所")
    _assert_same_as_rule("hand-back to the sub-dispatching unit")
    assert not Appeal.objects.visible_to(handler).filter(pk=routed.pk).exists()

    # Assisting units added and removed after dispatch (admin, a later decision).
    later = make_appeal()
    late_order = services.dispatch_appeal(later, unit=far_station, actor=center)
    assert not Appeal.objects.visible_to(handler2).filter(pk=later.pk).exists()
    late_order.assisting_units.add(other_station)
    _assert_same_as_rule("assisting unit added")
    assert Appeal.objects.visible_to(handler2).filter(pk=later.pk).exists()
    late_order.assisting_units.remove(other_station)
    _assert_same_as_rule("assisting unit removed")
    assert not Appeal.objects.visible_to(handler2).filter(pk=later.pk).exists()
    other_station.assisted_work_orders.add(late_order)
    _assert_same_as_rule("assisting unit added from the unit's side")
    other_station.assisted_work_orders.clear()
    _assert_same_as_rule("assisting units cleared from the unit's side")

    # Intake alone sets a lead unit (no order yet).
    direct = make_appeal()
    intake_services.mark_dispatched(direct, unit=other_station, actor=center)
    _assert_same_as_rule("lead unit set by intake")

    # A stale instance saved after the scope changed does not write its old scope back.
    stale = Appeal.objects.get(pk=later.pk)
    late_order.assisting_units.add(other_station)
    stale.title = "夜间施工噪音"
    stale.save()
    _assert_same_as_rule("stale appeal saved")
    assert Appeal.objects.visible_to(handler2).filter(pk=later.pk).exists()
    assert not Appeal.objects.visible_to(handler).filter(pk=untouched.pk).exists()
    assert leader.unit == station

    # A new deadline alone (an extension, a recomputed deadline): the open tabs' order follows.
    WorkOrder.objects.filter(pk=late_order.pk).update(due_at=late_order.due_at + timedelta(days=3))
    _assert_same_as_rule("deadline moved by an UPDATE")

    # Closed (the 已办结 tab's status and close time), then a set-wise update of many orders, then
    # deleted: the ordered lists' rows follow.
    WorkOrder.objects.filter(pk=late_order.pk).update(status="closed", closed_at=late_order.dispatched_at)
    _assert_same_as_rule("closed by an UPDATE")
    WorkOrder.objects.update(updated_at=late_order.dispatched_at)
    _assert_same_as_rule("every order updated in one statement")
    WorkOrder.objects.filter(pk=late_order.pk).delete()
    _assert_entries_mirror_the_orders("order deleted")
    # A delete outside Django's collector, too (rolled back: other tables still point at the order).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM workorders_workorder WHERE id = %s", [order.pk])
        _assert_entries_mirror_the_orders("order deleted in SQL")
        transaction.set_rollback(True)

    # An appeal's status, severity and received time (its lists' keys) by an UPDATE, then every
    # appeal updated in one statement, then deleted: the appeals' ordered rows follow. (The rule is
    # no longer checked here: the order deleted above leaves its appeal's stored scope as it was.)
    Appeal.objects.filter(pk=assisted.pk).update(status="closed", severity="red", severity_rank=0)
    _assert_entries_mirror_the_appeals("appeal closed and made red by an UPDATE")
    Appeal.objects.filter(pk=direct.pk).update(received_at=assisted.received_at - timedelta(days=1))
    _assert_entries_mirror_the_appeals("appeal received time corrected")
    Appeal.objects.update(title="夜间施工噪音")
    _assert_entries_mirror_the_appeals("every appeal updated in one statement")
    assert AppealScopeEntry.objects.filter(appeal=direct).exists() == (connection.vendor == "postgresql")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM intake_appeal WHERE id = %s", [direct.pk])
        _assert_entries_mirror_the_appeals("appeal deleted in SQL")
        transaction.set_rollback(True)
    direct.delete()
    _assert_entries_mirror_the_appeals("appeal deleted")


def test_unit_scoping_is_one_lookup_on_the_row_not_a_join_over_work_orders(handler):
    """Rule 12: no path LIKE, no EXISTS over another big table, in a unit user's list query."""
    if connection.vendor != "postgresql":
        pytest.skip("the stored scope is read on PostgreSQL")
    for qs in (Appeal.objects.visible_to(handler), WorkOrder.objects.visible_to(handler)):
        sql = str(qs.query).upper()
        assert "LIKE" not in sql and "EXISTS" not in sql and "JOIN" not in sql, sql
        assert "SCOPE_UNITS" in sql
