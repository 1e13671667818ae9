"""The SMS layer's actions are offered exactly to whom they are allowed: for each role, a handler of
another unit and a superuser whose role is not the administrator's, 重新发送 on the outbox, the
opt-out list's 解除退订 and the simulator's reply box are on the page if and only if posting them
works, and ``sms.permissions`` decides both (and the services refuse everyone else)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from intake.phones import normalize_phone, phone_hash
from sms import permissions
from sms.choices import SmsPurpose, SmsStatus
from sms.models import InboundSms, OptOut, OutboundSms
from sms.optouts import opt_out
from sms.services import lift_opt_out, queue_sms, requeue_sms

pytestmark = pytest.mark.django_db

CAST = ("center", "handler", "leader", "handler2", "supervisor", "administrator", "superuser")


def _flagged(phone: str) -> OutboundSms:
    """An SMS whose send went unanswered: waiting for someone to check it with the provider."""
    sms = queue_sms(phone=phone, template_code="appeal_closed", params={"code": "AB23CD45"}, purpose=SmsPurpose.OTHER)
    OutboundSms.objects.filter(pk=sms.pk).update(status=SmsStatus.SENDING, needs_reconciliation=True)
    return sms


@pytest.mark.parametrize("name", CAST)
def test_the_requeue_button_is_shown_exactly_when_the_requeue_works(name, request, client):
    user = request.getfixturevalue(name)
    sms = _flagged("13800005501")
    client.force_login(user)
    page = client.get("/sms/outbox/?needs_reconciliation=true")
    shown = page.status_code == 200 and f'action="/sms/outbox/{sms.pk}/requeue/"' in page.content.decode()
    assert page.status_code in (200, 403)
    sms.refresh_from_db()
    assert shown == permissions.may_requeue(user, sms), name
    client.post(f"/sms/outbox/{sms.pk}/requeue/")
    sms.refresh_from_db()
    assert (sms.status == SmsStatus.QUEUED) == shown, name
    if not shown:
        with pytest.raises(PermissionDenied):
            requeue_sms(sms, actor=user)


def test_a_message_not_waiting_for_a_check_offers_no_requeue(client, administrator):
    sms = queue_sms(
        phone="13800005502", template_code="appeal_closed", params={"code": "AB23CD45"}, purpose=SmsPurpose.OTHER
    )
    client.force_login(administrator)
    assert f"/sms/outbox/{sms.pk}/requeue/" not in client.get("/sms/outbox/").content.decode()
    assert not permissions.may_requeue(administrator, sms)


@pytest.mark.parametrize("name", CAST)
def test_the_opt_out_list_and_its_lift_button_follow_one_rule(name, request, client):
    user = request.getfixturevalue(name)
    opt = opt_out(phone="13800005503", source="sms")
    client.force_login(user)
    page = client.get("/sms/opt-outs/")
    shown = page.status_code == 200 and f'name="remove" value="{opt.pk}"' in page.content.decode()
    assert shown == permissions.may_manage_opt_outs(user), name
    client.post("/sms/opt-outs/", {"remove": opt.pk})
    assert (not OptOut.objects.filter(pk=opt.pk).exists()) == shown, name
    added = client.post("/sms/opt-outs/", {"phone": "13800005504", "note": "本人来电要求"})
    assert OptOut.objects.filter(phone_hash=phone_hash(normalize_phone("13800005504"))).exists() == shown, (
        name,
        added.status_code,
    )
    if not shown:
        with pytest.raises(PermissionDenied):
            lift_opt_out(opt, actor=user)


@pytest.mark.parametrize("name", CAST)
def test_the_simulator_reply_box_is_shown_exactly_to_whom_a_reply_is_taken(name, request, client, settings):
    settings.SMS_SIMULATOR_ENABLED = True
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    user = request.getfixturevalue(name)
    sms = queue_sms(
        phone="13800005505", template_code="appeal_closed", params={"code": "AB23CD45"}, purpose=SmsPurpose.OTHER
    )
    client.force_login(user)
    page = client.get("/sms/simulator/")
    shown = page.status_code == 200 and 'name="phone_ref"' in page.content.decode()
    assert shown == permissions.may_use_simulator(user), name
    client.post("/sms/simulator/", {"phone_ref": sms.pk, "body": "收到"})
    assert InboundSms.objects.exists() == shown, name
