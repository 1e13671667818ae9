"""Listed supervision: rules list repeats, long-unresolved and group appeals; supervisors list and unlist."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from units.models import Notification
from workorders import services, tasks
from workorders.choices import Action
from workorders.deadlines import SHANGHAI
from workorders.models import SupervisionRule

pytestmark = pytest.mark.django_db


def test_it_lists_a_repeat_appeal_on_dispatch(make_appeal, station, center, supervisor):
    SupervisionRule.objects.create(name="重复投诉", kind="repeat", params={"min_appeals": 2, "days": 30})
    make_appeal(category="NOISE")
    order = services.dispatch_appeal(make_appeal(category="NOISE"), unit=station, actor=center)
    order.refresh_from_db()
    assert order.is_listed and "重复" in order.listed_reason
    assert Notification.objects.filter(user=supervisor, dedupe_key__startswith="wo-listed:").count() == 1


def test_it_lists_a_long_unresolved_order_once_however_often_the_job_runs(make_appeal, station, center):
    SupervisionRule.objects.create(name="久拖未决", kind="long_unresolved", params={"working_days": 5})
    with time_machine.travel(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI), tick=False):
        order = services.dispatch_appeal(make_appeal(), unit=station, actor=center)
    with time_machine.travel(datetime(2026, 10, 9, 9, 0, tzinfo=SHANGHAI), tick=False):
        # 29, 30 Sep, 8, 9 Oct: only four working days because of National Day.
        assert tasks.apply_supervision_rules_task() == 0
    with time_machine.travel(datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert tasks.apply_supervision_rules_task() == 1
        assert tasks.apply_supervision_rules_task() == 0
    order.refresh_from_db()
    assert order.is_listed and order.events.filter(action=Action.LIST).count() == 1


def test_it_lists_group_appeals(make_appeal, station, center):
    SupervisionRule.objects.create(name="群体诉求", kind="group", params={"min_citizens": 3, "days": 7})
    for i in range(3):
        make_appeal(category="NOISE", address="江北区幸福小区", phone=f"+86138000012{i:02d}")
    order = services.dispatch_appeal(
        make_appeal(category="NOISE", address="江北区幸福小区", phone="+8613800001299"), unit=station, actor=center
    )
    order.refresh_from_db()
    assert order.is_listed and "群体" in order.listed_reason


def test_it_lets_supervisors_list_and_unlist_and_rules_respect_the_unlisting(order, supervisor, handler):
    SupervisionRule.objects.create(name="久拖未决", kind="long_unresolved", params={"working_days": 0})
    with pytest.raises(PermissionDenied):
        services.list_order(order, actor=handler, reason="x")
    services.list_order(order, actor=supervisor, reason="领导批示")
    services.list_order(order, actor=supervisor, reason="领导批示")
    assert order.is_listed and order.events.filter(action=Action.LIST).count() == 1
    services.unlist_order(order, actor=supervisor, reason="已化解")
    services.unlist_order(order, actor=supervisor, reason="已化解")
    assert not order.is_listed and order.events.filter(action=Action.UNLIST).count() == 1
    assert services.apply_supervision_rules() == 0
    order.refresh_from_db()
    assert not order.is_listed
