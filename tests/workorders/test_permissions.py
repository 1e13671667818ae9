"""A button is shown exactly when its action is allowed: for the fixed cast and an order in each
working state, the order page shows a move's button if and only if the service lets that user make
the move (the state permitting), and the same rule (``workorders.permissions``) decides both."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from units.errors import Refused
from workorders import permissions, services
from workorders.choices import Action, WorkOrderStatus
from workorders.models import WorkOrder

S = WorkOrderStatus
CAST = ("center", "handler", "leader", "handler2", "supervisor", "administrator")
# Moves whose button depends only on role, unit and status (the extension decisions also need a
# pending request, sub-dispatch a unit below: covered in test_move_forms).
PLAIN_MOVES = [
    a for a in services.MOVES if a not in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION, Action.SUB_DISPATCH)
]


def _service_allows(order: WorkOrder, action: str, user) -> bool:
    """Run the move for real in a savepoint that is then rolled back: does the service let him?"""
    sid = transaction.savepoint()
    try:
        services._move(WorkOrder.objects.get(pk=order.pk), action, actor=user)
    except PermissionDenied:
        return False
    except Refused:
        return True  # allowed to try; the state said no
    finally:
        transaction.savepoint_rollback(sid)
    return True


def _buttons(client, user, order) -> set[str] | None:
    client.force_login(user)
    page = client.get(f"/workorders/{order.pk}/")
    if page.status_code == 404:
        return None
    html = page.content.decode()
    return {a for a in services.MOVES if f'data-move="{a.replace("_", "-")}"' in html} | (
        {"list"} if 'data-move="list"' in html else set()
    )


def _to(order: WorkOrder, status: str, handler, center) -> WorkOrder:
    if status == S.DISPATCHED:
        return order
    services.sign_for(order, actor=handler)
    if status == S.SIGNED:
        return order
    services.submit_feedback(
        order, actor=handler, text="已上门核实，问题已解决。", result="resolved", contact_method="phone"
    )
    if status == S.FEEDBACK_SUBMITTED:
        return order
    services.approve(order, actor=center)
    if status == S.APPROVED:
        return order
    services.close(order, actor=center, reply="已处理完毕，感谢您的反映。")
    return order


@pytest.mark.parametrize("status", [S.DISPATCHED, S.SIGNED, S.FEEDBACK_SUBMITTED, S.APPROVED, S.CLOSED])
def test_each_move_button_is_shown_exactly_when_the_service_allows_the_move(
    client, order, status, request, handler, center
):
    order = _to(order, status, handler, center)
    order.refresh_from_db()
    for name in CAST:
        user = request.getfixturevalue(name)
        shown = _buttons(client, user, order)
        for action in PLAIN_MOVES:
            move = services.MOVES[action]
            allowed = _service_allows(order, action, user)
            assert allowed == permissions.may_move(user, order, move.by), (name, action)
            expected = allowed and order.status in move.sources
            assert (action in (shown or set())) == expected, (name, status, action)


def test_the_supervision_button_is_shown_exactly_to_whom_the_service_lets_list(client, order, request):
    for name in CAST:
        user = request.getfixturevalue(name)
        shown = _buttons(client, user, order)
        sid = transaction.savepoint()
        try:
            services.list_order(WorkOrder.objects.get(pk=order.pk), actor=user, reason="群众反映强烈")
            allowed = True
        except PermissionDenied:
            allowed = False
        finally:
            transaction.savepoint_rollback(sid)
        assert allowed == permissions.may_list(user), name
        assert ("list" in (shown or set())) == (allowed and shown is not None), name
