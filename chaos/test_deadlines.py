"""Scenario 4: workers stopped while deadlines pass.

With no worker and no beat running, M work orders are dispatched and their times moved into the
near past (a third past 50 % of their time, a third past 80 %, a third past the deadline). Then the
worker and beat start (the urge job every CHAOS_URGE_INTERVAL seconds): the first urge run must
remind every order at the latest stage it reached, and the runs after it must remind none again
(one timeline row, one notification per person, one SMS per handler and order).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections import Counter

from .harness import report


def test_deadlines_passed_while_workers_were_down_are_caught_once(scenario):
    from django.utils import timezone

    from intake.choices import Channel
    from intake.services import create_appeal
    from sms.models import OutboundSms
    from units.models import Notification, User
    from workorders import deadlines
    from workorders.choices import Action, UrgeStage
    from workorders.models import WorkOrder, WorkOrderEvent
    from workorders.services import dispatch_appeal

    stack, _url = scenario
    m = int(os.environ.get("CHAOS_ORDERS", "300"))
    interval = int(os.environ.get("CHAOS_URGE_INTERVAL", "5"))
    redis_port = int(os.environ["CHAOS_REDIS_PORT"])
    stack.env.update({"WORKORDERS_URGE_INTERVAL": str(interval), "WORKORDERS_URGE_SMS": "1"})

    center = User.objects.get(username="center")
    handler = User.objects.get(username="handler")
    if not handler.mobile:
        handler.mobile = "13800009999"
        handler.save(update_fields=["mobile"])

    # Dispatched while nothing runs (no broker either: what dispatch enqueues is lost, as in an outage).
    now = timezone.now()
    expected: dict[int, int] = {}
    for i in range(m):
        appeal, _ = create_appeal(
            channel=Channel.HOTLINE, content=f"小区门口第{i}号路灯不亮，夜间出行不便。", actor=center
        )
        order = dispatch_appeal(appeal, unit=handler.unit, actor=center)
        stage = i % 3 + 1  # the stage each order has reached by now: 50 %, 80 %, the deadline
        span = dt.timedelta(hours=10)
        passed = {1: 0.6, 2: 0.9, 3: 1.1}[stage]
        dispatched = now - span * passed
        due = dispatched + span
        WorkOrder.objects.filter(pk=order.pk).update(
            dispatched_at=dispatched, due_at=due, next_urge_at=deadlines.urge_times(dispatched, due)[0], urge_stage=0
        )
        expected[order.pk] = stage
    ours = WorkOrder.objects.filter(pk__in=expected)
    assert not WorkOrderEvent.objects.filter(order__in=ours, action__in=[Action.URGE, Action.OVERDUE]).exists()

    stack.start_redis(redis_port)
    stack.start_worker()
    started = timezone.now()
    clock = time.monotonic()
    stack.start_beat()

    def reminded() -> int:
        return WorkOrderEvent.objects.filter(order__in=ours, action__in=[Action.URGE, Action.OVERDUE]).count()

    deadline = time.monotonic() + float(os.environ.get("CHAOS_TIMEOUT", "300"))
    while reminded() < m and time.monotonic() < deadline:
        time.sleep(0.5)
    caught = time.monotonic() - clock
    time.sleep(interval * 3 + 2)  # three more runs of the urge job, which must remind nobody again
    stack.kill("beat")
    stack.kill("worker")

    events = list(
        WorkOrderEvent.objects.filter(order__in=ours, action__in=[Action.URGE, Action.OVERDUE]).values_list(
            "order_id", "created_at", "data"
        )
    )
    per_order = Counter(pk for pk, _when, _data in events)
    assert set(per_order) == set(expected), f"{len(expected) - len(per_order)} orders never reminded"
    assert set(per_order.values()) == {1}, "an order reminded twice"
    assert {pk: data["stage"] for pk, _when, data in events} == expected
    assert dict(ours.values_list("pk", "urge_stage")) == expected
    assert ours.filter(is_overdue=True).count() == sum(1 for s in expected.values() if s == UrgeStage.DUE)
    # Celery logs what each run returned: the first run must have reminded every one of ours (and
    # whatever demo orders were due), the later ones nothing of ours (checked per order above).
    runs = [
        (float(took), int(sent))
        for took, sent in re.findall(
            r"urge_due_orders_task\[[^\]]+\] succeeded in ([\d.]+)s: (\d+)", stack.log_path("worker").read_text()
        )
    ]
    assert runs and runs[0][1] >= m, f"the first urge run reminded {runs[:1]}, not all {m} orders"
    times = [when for _pk, when, _data in events]
    keys = [f"wo-urge:{pk}:" for pk in expected]
    notes = Counter(Notification.objects.filter(dedupe_key__startswith="wo-urge:").values_list("dedupe_key", "user_id"))
    ours_notes = {k: v for k, v in notes.items() if any(k[0].startswith(p) for p in keys)}
    assert ours_notes and set(ours_notes.values()) == {1}
    sms = Counter(
        OutboundSms.objects.filter(purpose="urge_reminder", dedupe_key__startswith="wo-urge:").values_list(
            "dedupe_key", flat=True
        )
    )
    ours_sms = {k: v for k, v in sms.items() if any(k.startswith(p) for p in keys)}
    assert len(ours_sms) == m and set(ours_sms.values()) == {1}

    report(
        "scenario 4: workers stopped while deadlines pass",
        orders=m,
        stages=dict(Counter(expected.values())),
        urge_interval_seconds=interval,
        first_reminder_after=f"{(min(times) - started).total_seconds():.1f} s from beat start",
        all_caught_after=f"{caught:.1f} s",
        urge_runs=f"{len(runs)}: first reminded {runs[0][1]} in {runs[0][0]:.1f} s, then {[r[1] for r in runs[1:]]}",
        reminders_per_order=dict(Counter(per_order.values())),
        notifications=len(ours_notes),
        urge_sms=len(ours_sms),
        later_runs_watched=f"{interval * 3 + 2} s",
    )
