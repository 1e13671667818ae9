"""Revealing a citizen's number asks for a reason, and every reveal is one row of the central log
(who, when, from where, why, which object) that nobody can change or delete in the application."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import PhoneReveal

pytestmark = pytest.mark.django_db


def test_it_refuses_to_reveal_on_the_appeal_page_without_a_reason(client, center, make_appeal):
    appeal = make_appeal(citizen_phone="13800004321")
    client.force_login(center)
    url = reverse("intake:reveal_phone", args=[appeal.pk])
    for data in ({}, {"reason": "   "}):
        response = client.post(url, data, REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 400
        body = response.content.decode()
        assert "请填写查看事由" in body and "13800004321" not in body
    assert not PhoneReveal.objects.exists()
    assert not appeal.events.filter(action="phone_revealed").exists()


def test_it_logs_the_reason_address_and_appeal_of_a_reveal_on_the_appeal_page(client, center, make_appeal):
    appeal = make_appeal(citizen_phone="13800004321")
    client.force_login(center)
    response = client.post(
        reverse("intake:reveal_phone", args=[appeal.pk]), {"reason": "联系群众核实地址"}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 200
    assert "13800004321" in response.content.decode()
    log = PhoneReveal.objects.get()
    assert (log.user, log.reason, log.ip) == (center, "联系群众核实地址", "10.0.0.7")
    assert (log.object_type, log.object_id, log.object_label) == ("appeal", appeal.pk, appeal.tracking_code)
    assert log.appeal == appeal and log.created_at is not None


def test_it_asks_the_api_for_a_reason_too(api, center, make_appeal):
    appeal = make_appeal(citizen_phone="13800004321")
    url = f"/api/v1/appeals/{appeal.pk}/reveal-phone/"
    refused = api.as_user(center).post(url, {}, format="json")
    assert refused.status_code == 400
    assert "请填写查看事由" in refused.json()["detail"]
    assert not PhoneReveal.objects.exists()
    done = api.post(url, {"reason": "回访联系群众"}, format="json", REMOTE_ADDR="10.0.0.9")
    assert done.status_code == 200 and done.json()["phone"] == "13800004321"
    log = PhoneReveal.objects.get()
    assert (log.reason, log.ip, log.object_type) == ("回访联系群众", "10.0.0.9", "appeal")


def test_it_lists_the_reason_and_address_on_the_reveal_log_page(client, center, administrator, make_appeal):
    appeal = make_appeal()
    client.force_login(center)
    client.post(
        reverse("intake:reveal_phone", args=[appeal.pk]), {"reason": "联系群众核实地址"}, REMOTE_ADDR="10.0.0.7"
    )
    client.force_login(administrator)
    page = client.get(reverse("intake:phone_reveals")).content.decode()
    assert "联系群众核实地址" in page and "10.0.0.7" in page and appeal.tracking_code in page
    rows = client.get("/api/v1/phone-reveals/").json()["results"]
    assert rows[0]["reason"] == "联系群众核实地址" and rows[0]["ip"] == "10.0.0.7"


def test_it_keeps_the_log_read_only_for_superusers_in_the_admin(client, center, administrator, make_appeal):
    from intake import services

    appeal = make_appeal()
    services.reveal_phone(appeal, actor=center, reason="联系群众", ip="10.0.0.7")
    log = PhoneReveal.objects.get()
    administrator.is_superuser = administrator.is_staff = True
    administrator.save()
    client.force_login(administrator)
    base = "/admin/intake/phonereveal/"
    assert client.get(base).status_code == 200
    assert client.post(f"{base}{log.pk}/change/", {"reason": "改掉"}).status_code == 403
    assert client.get(f"{base}{log.pk}/delete/").status_code == 403
    assert client.post(f"{base}{log.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = client.get(base).content.decode()
    assert "delete_selected" not in changelist
    bulk = client.post(base, {"action": "delete_selected", "_selected_action": [log.pk], "post": "yes"})
    assert bulk.status_code in (200, 302, 403)
    log.refresh_from_db()
    assert log.reason == "联系群众"
    assert PhoneReveal.objects.count() == 1


def test_it_refuses_to_change_or_delete_a_log_row_in_code(center, make_appeal):
    from intake import services

    appeal = make_appeal()
    services.reveal_phone(appeal, actor=center, reason="联系群众")
    log = PhoneReveal.objects.get()
    log.reason = "改掉"
    with pytest.raises(PermissionError):
        log.save()
    with pytest.raises(PermissionError):
        log.delete()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        appeal.delete()
    assert PhoneReveal.objects.get().reason == "联系群众"
