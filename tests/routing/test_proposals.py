"""The proposal on the appeal page, what a dispatch followed, auto-dispatch and the routing page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import Appeal
from routing import services
from routing.models import AutoDispatchSetting, DispatchChoice
from units.models import Unit
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.services import dispatch_appeal

pytestmark = pytest.mark.django_db


def _appeal(categories, *, content, address="", category="ORDER-NOISE", status="pending_dispatch", **kw) -> Appeal:
    return Appeal.objects.create(
        channel="hotline",
        content=content,
        address=address,
        category=categories[category],
        status=status,
        severity=kw.pop("severity", "blue"),
        **kw,
    )


NOISE = "您好，北湖新村12栋楼下广场舞音响声音太大，晚上九点半以后还在跳。希望尽快处理。"


def test_it_shows_the_proposal_with_its_confidence_on_the_appeal_page(trained, categories, center, client):
    appeal = _appeal(categories, content=NOISE)
    proposal = services.propose(appeal)
    assert proposal.model_unit.code == "LJ102" and proposal.rule_unit is None
    client.force_login(center)
    body = client.get(reverse("intake:appeal", args=[appeal.pk])).content.decode()
    assert f"建议：北湖派出所（模型 {proposal.percent}%）" in body
    assert 'data-panel="routing-appeal"' in body


def test_it_says_when_the_model_and_the_rule_agree(trained, categories, center, client):
    appeal = _appeal(categories, content="江北区滨江路8号楼下烧烤摊吵到凌晨两点。", address="江北区滨江路8号")
    proposal = services.propose(appeal)
    assert proposal.agree and proposal.unit.code == "LJ101"
    client.force_login(center)
    body = client.get(reverse("intake:appeal", args=[appeal.pk])).content.decode()
    assert f"建议：滨江派出所（模型 {proposal.percent}%／规则）" in body


def test_the_rule_wins_where_it_is_explicit(trained, categories):
    appeal = _appeal(categories, content="南门汽车站门口违停严重。", address="江北区滨江路3号", category="TRAFFIC-PARK")
    proposal = services.propose(appeal)
    assert proposal.rule_unit.code == "LJ101" and proposal.unit == proposal.rule_unit


def test_it_shows_no_panel_without_a_model(categories, center, client):
    appeal = _appeal(categories, content=NOISE)
    client.force_login(center)
    assert 'data-panel="routing-appeal"' not in client.get(reverse("intake:appeal", args=[appeal.pk])).content.decode()


def test_it_records_which_proposal_a_dispatch_followed(trained, categories, center, client):
    followed = _appeal(categories, content=NOISE)
    other = _appeal(categories, content=NOISE + "（二）")
    order = dispatch_appeal(followed, unit=Unit.objects.get(code="LJ102"), actor=center)
    dispatch_appeal(other, unit=Unit.objects.get(code="LJ201"), actor=center)
    choice = DispatchChoice.objects.get(order=order)
    assert choice.followed == "model" and choice.model_version == trained.version and not choice.automatic
    assert choice.model_confidence > 0.3 and choice.rule_unit is None
    assert DispatchChoice.objects.get(appeal=other).followed == "neither"
    # Dispatching again to the same unit returns the same order and records nothing twice.
    dispatch_appeal(followed, unit=Unit.objects.get(code="LJ102"), actor=center)
    assert DispatchChoice.objects.count() == 2
    assert services.__name__ and __import__("routing.selectors").selectors.acceptance()["model_rate"] == 0.5
    client.force_login(center)
    body = client.get(reverse("routing:overview")).content.decode()
    assert 'data-testid="model-acceptance">50%' in body
    assert f"v{trained.version}" in body


def test_auto_dispatch_is_off_by_default_and_dispatches_above_the_threshold(trained, categories, admin_user):
    appeal = _appeal(categories, content=NOISE)
    red = _appeal(categories, content=NOISE + "（红）", severity="red")
    assert services.auto_dispatch_pending() == 0
    assert not WorkOrder.objects.filter(appeal=appeal).exists()
    percent = services.propose(appeal).percent
    # A threshold above the confidence: nothing happens.
    AutoDispatchSetting.objects.create(
        category=categories["ORDER-NOISE"], is_enabled=True, threshold=min(1.0, (percent + 1) / 100)
    )
    assert services.auto_dispatch_pending() == 0
    AutoDispatchSetting.objects.filter(category=categories["ORDER-NOISE"]).update(threshold=(percent - 1) / 100)
    assert services.auto_dispatch_pending() == 1
    assert services.auto_dispatch_pending() == 0  # twice, one effect
    order = WorkOrder.objects.get(appeal=appeal)
    assert order.unit.code == "LJ102" and order.dispatched_by is None
    event = WorkOrderEvent.objects.get(order=order, action="dispatch")
    assert "自动派单" in event.note and f"{percent}%" in event.note
    assert DispatchChoice.objects.get(order=order).automatic
    assert not WorkOrder.objects.filter(appeal=red).exists()  # a red appeal always waits for a person


def test_the_routing_page_is_for_the_center_and_settings_for_administrators(
    trained, categories, center, handler, admin_user, client
):
    client.force_login(handler)
    assert client.get(reverse("routing:overview")).status_code == 403
    client.force_login(center)
    page = client.get(reverse("routing:overview"))
    assert page.status_code == 200 and "退单率" in page.content.decode()
    noise = categories["ORDER-NOISE"]
    assert client.post(reverse("routing:auto_settings"), {f"on-{noise.pk}": "1"}).status_code == 403
    client.force_login(admin_user)
    client.post(reverse("routing:auto_settings"), {f"on-{noise.pk}": "1", f"threshold-{noise.pk}": "90"})
    setting = AutoDispatchSetting.objects.get(category=noise)
    assert setting.is_enabled and setting.threshold == 0.9


def test_the_hand_back_rate_is_counted_per_month(history):
    from routing.selectors import handback_rates

    rows = handback_rates(months=4)
    assert rows and all(r["phase"] is None for r in rows)
    total = sum(r["total"] for r in rows)
    handed = sum(r["handed_back"] for r in rows)
    assert 0.05 < handed / total < 0.15
