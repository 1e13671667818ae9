"""The evaluation flow in a real browser: the citizen answers "3" in the SMS simulator, the
callback appears on the desk, the staff member records the call and opens a rectification order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from intake.phones import phone_hash
from sms.models import OutboundSms
from sms.outbox import send_one
from surveys.catalogue import seed_defaults
from surveys.models import BusinessType, Callback, ServiceRecord
from surveys.services.records import run_evaluation
from units.models import Unit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def evaluation_sent(city, settings):
    settings.SMS_SIMULATOR_ENABLED = True
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    settings.SMS_SEND_HOURS = "00:00-23:59:59"
    seed_defaults()
    record = ServiceRecord.objects.create(
        external_id="JQ-BROWSER-1",
        business_type=BusinessType.objects.get(code="110"),
        served_at=timezone.now() - dt.timedelta(days=1),
        unit=Unit.objects.get(code="LJ101"),
        citizen_phone="+8613800005678",
        citizen_phone_hash=phone_hash("+8613800005678"),
    )
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    assert send_one(sms.pk)[0] == "sent"
    return sms


def test_it_answers_3_in_the_simulator_and_opens_a_rectification_order_from_the_desk(
    signed_in, live_server, evaluation_sent
):
    from workorders.models import WorkOrder

    # The simulator is the administrator's; the callback desk is the center's.
    _admin_context, page = signed_in("admin")
    page.goto(f"{live_server.url}/sms/simulator/")
    thread = page.locator("[data-testid=sim-thread]").filter(has_text="接处警工作进行评价")
    thread.locator("input[name=body]").fill("3 民警没来")
    thread.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/sms/simulator/")
    assert "已记录评价" in page.locator(".messages").inner_text()
    assert "3 民警没来" in page.locator("[data-testid=sim-in]").first.inner_text()

    _center_context, page = signed_in("center")
    page.goto(f"{live_server.url}/surveys/callbacks/")
    row = page.locator("[data-testid=callback-row]").filter(has_text="民警没来")
    assert row.count() == 1
    assert "滨江派出所" in row.inner_text()
    row.locator("[data-testid=open-callback]").click()

    call = page.locator("[data-testid=call-form]")
    call.locator("input[name=outcome][value=reached]").check()
    call.locator("textarea[name=reason]").fill("报警后四十分钟民警才到")
    call.locator("select[name=is_reasonable]").select_option("1")
    call.locator("button[type=submit]").click()
    # The form posts through htmx and the page is reloaded by HX-Redirect: wait for the new page.
    expect(page.locator("[data-testid=callback-status]")).to_have_text("已联系")

    page.locator("[data-testid=rectify-form] button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已派发整改工单")
    assert page.locator("[data-testid=rectification]").is_visible()

    callback = Callback.objects.get()
    order = WorkOrder.objects.get(pk=callback.rectification_order_id)
    assert order.unit.code == "LJ101"
    assert "报警后四十分钟民警才到" in order.appeal.content
