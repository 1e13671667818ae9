"""The demo loader: orders in every state, some overdue and listed, and a second run adds nothing."""

import pytest

from intake import demo as intake_demo
from workorders import demo
from workorders.choices import WorkOrderStatus
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_it_loads_believable_orders_once(city):
    intake_demo.load()
    demo.load()
    count = WorkOrder.objects.count()
    demo.load()
    assert WorkOrder.objects.count() == count >= 12
    states = set(WorkOrder.objects.values_list("status", flat=True))
    assert states == set(WorkOrderStatus.values)
    assert WorkOrder.objects.filter(is_overdue=True).exists()
    assert WorkOrder.objects.filter(is_listed=True).count() >= 2
    assert {"LJ101", "LJ102"} <= set(WorkOrder.objects.values_list("unit__code", flat=True))
