"""Bulk actions on the desk: the same services as one by one, a result per row."""

import pytest
from django.urls import reverse

from intake.models import Appeal, AppealEvent
from workorders.models import JurisdictionRule, WorkOrder

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def post(client, action, ids, **extra):
    # 按建议单位派单 is the work-orders app's action on the same bar (the button's formaction).
    url = reverse("workorders:desk_bulk_dispatch" if action == "dispatch_proposed" else "intake:bulk")
    return client.post(url, {"action": action, "ids": ids, "queue": "status=new", **extra}, **HTMX)


def test_dispatch_to_each_rows_proposed_unit_refuses_rows_without_one(client, center, make_appeal, station):
    JurisdictionRule.objects.create(pattern="滨江路", unit=station)
    near = [make_appeal(address="临江市滨江路1号") for _ in range(2)]
    nowhere = make_appeal(address="不明地点")
    client.force_login(center)
    response = post(client, "dispatch_proposed", [near[0].pk, nowhere.pk, near[1].pk])
    assert [r["ok"] for r in response.context["results"]] == [True, False, True]
    assert set(WorkOrder.objects.values_list("appeal_id", flat=True)) == {near[0].pk, near[1].pk}
    assert Appeal.objects.get(pk=nowhere.pk).status == "new"
    html = response.content.decode()
    assert f'id="appeal-row-{nowhere.pk}"' in html and 'data-testid="row-result"' in html


def test_mark_for_dispatch_and_set_severity_write_the_usual_timeline(client, center, make_appeal, categories):
    a, b = make_appeal(), make_appeal()
    client.force_login(center)
    post(client, "mark_for_dispatch", [a.pk, b.pk])
    assert set(Appeal.objects.values_list("status", flat=True)) == {"pending_dispatch"}
    post(client, "set_severity", [a.pk], severity="red")
    assert Appeal.objects.get(pk=a.pk).severity == "red"
    post(client, "set_category", [b.pk], category=categories["ORDER-NOISE"].pk)
    assert Appeal.objects.get(pk=b.pk).category_id == categories["ORDER-NOISE"].pk
    assert AppealEvent.objects.filter(appeal=a, action="marked_for_dispatch", actor=center).count() == 1
    assert AppealEvent.objects.filter(appeal=a, action="triaged").count() == 1
    closed = make_appeal()
    from intake.services import close_appeal

    close_appeal(closed, actor=center, reply="已答复")
    refused = post(client, "mark_for_dispatch", [closed.pk, 99999999])
    assert [r["ok"] for r in refused.context["results"]] == [False, False]


def test_unit_users_have_no_desk_bulk(client, handler, make_appeal):
    a = make_appeal()
    client.force_login(handler)
    assert post(client, "mark_for_dispatch", [a.pk]).status_code == 403
    assert Appeal.objects.get(pk=a.pk).status == "new"


def test_an_unknown_action_or_a_missing_value_is_a_400(client, center, make_appeal):
    a = make_appeal()
    client.force_login(center)
    assert post(client, "explode", [a.pk]).status_code == 400
    assert post(client, "set_severity", [a.pk]).status_code == 400
