"""Wherever a person or a machine reads a citizen's number — staff pages, the admin, the API — it
is 138****xxxx, unless someone deliberately revealed it (one row of the reveal log each time)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from intake.models import PhoneReveal
from intake.phones import EncryptedPhoneField

from .conftest import PHONES, leaks

pytestmark = pytest.mark.django_db


def staff_pages(flow) -> list[str]:
    appeal, order, callback = flow.appeals["hotline"], flow.order, flow.callback
    return [
        reverse("intake:desk"),
        reverse("intake:desk") + "?status=closed",
        reverse("intake:appeal", args=[appeal.pk]),
        reverse("intake:appeal", args=[flow.appeals["api"].pk]),
        reverse("intake:phone_reveals"),
        reverse("workorders:detail", args=[order.pk]),
        reverse("workorders:workspace"),
        reverse("workorders:review"),
        reverse("surveys:overview"),
        reverse("surveys:callback_desk"),
        reverse("surveys:callback_detail", args=[callback.pk]),
        reverse("surveys:rating_list"),
        reverse("surveys:record_list"),
        reverse("sms:outbox"),
        reverse("surveys:reviews"),
        reverse("sms:optouts"),
        reverse("surveys:survey_list"),
        reverse("surveys:survey_detail", args=[flow.survey.pk]),
        reverse("sms:simulator"),
        "/track/",
        # The citizen's own survey link (public).
        reverse("surveys:survey_form", args=[flow.survey.invitations.get().token]),
    ]


def test_staff_pages_show_numbers_masked_only(client, flow, center, handler, supervisor, administrator, settings):
    settings.SMS_SIMULATOR_ENABLED = True
    shown_masked = set()
    for user in (center, handler, supervisor, administrator):
        client.force_login(user)
        for url in staff_pages(flow):
            response = client.get(url)
            body = response.content.decode()
            assert not leaks(body), (user.username, url, leaks(body))
            shown_masked.update(p for p in PHONES.values() if f"{p[:3]}****{p[-4:]}" in body)
    # The pages did list the rows (masked), so the check above looked at something.
    assert {PHONES["hotline"], PHONES["record"], PHONES["optout"]} <= shown_masked


def test_phone_history_lists_masked_and_does_not_echo_the_number_typed(client, flow, administrator):
    client.force_login(administrator)
    page = client.post(reverse("surveys:phone_history"), {"phone": PHONES["record"]}).content.decode()
    assert "138****7003" in page
    assert not leaks(page)


def test_the_admin_shows_numbers_masked_only(client, flow, administrator):
    administrator.is_staff = administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    checked = 0
    for model in admin.site._registry:
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedPhoneField)]
        related = {"Callback", "Rating"}
        if not fields and model.__name__ not in related:
            continue
        info = model._meta.app_label, model._meta.model_name
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200
        assert not leaks(changelist.content.decode()), model
        for obj in model.objects.all()[:5]:
            change = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert change.status_code == 200
            assert not leaks(change.content.decode()), (model, obj.pk)
            checked += 1
    assert checked


def api_urls(flow) -> list[str]:
    appeal = flow.appeals["hotline"]
    return [
        "/api/v1/appeals/",
        f"/api/v1/appeals/{appeal.pk}/",
        f"/api/v1/appeals/{flow.appeals['api'].pk}/",
        f"/api/v1/appeals/{appeal.pk}/timeline/",
        "/api/v1/work-orders/",
        f"/api/v1/work-orders/{flow.order.pk}/",
        "/api/v1/callbacks/",
        f"/api/v1/callbacks/{flow.callback.pk}/",
        "/api/v1/evaluations/",
        "/api/v1/ratings/",
        f"/api/v1/ratings/{flow.rating.pk}/",
        "/api/v1/service-records/",
        f"/api/v1/service-records/{flow.record.pk}/",
        "/api/v1/surveys/",
        f"/api/v1/surveys/{flow.survey.pk}/",
        "/api/v1/phone-reveals/",
        "/api/v1/notifications/",
    ]


def test_api_answers_show_numbers_masked_only(api, flow, center, handler, administrator):
    masked_seen = False
    for user in (center, handler, administrator):
        client = api.as_user(user)
        for url in api_urls(flow):
            response = client.get(url)
            body = response.content.decode()
            assert not leaks(body), (user.username, url, leaks(body))
            masked_seen |= "138****7001" in body
    assert masked_seen


def test_each_reveal_is_one_row_of_the_central_log(client, api, flow, center):
    appeal, callback = flow.appeals["hotline"], flow.callback
    client.force_login(center)
    assert PhoneReveal.objects.count() == 0

    page = client.post(reverse("intake:reveal_phone", args=[appeal.pk]), {"reason": "核实身份"})
    assert page.status_code == 200 and PHONES["hotline"] in page.content.decode()
    assert PhoneReveal.objects.filter(object_type="appeal", object_id=appeal.pk).count() == 1

    page = client.post(reverse("surveys:callback_reveal_phone", args=[callback.pk]), {"reason": "回访联系"})
    assert page.status_code == 200 and PHONES["record"] in page.content.decode()
    assert PhoneReveal.objects.filter(object_type="callback", object_id=callback.pk).count() == 1

    answer = api.as_user(center).post(f"/api/v1/appeals/{appeal.pk}/reveal-phone/", {"reason": "接口核实"})
    assert answer.status_code == 200 and PHONES["hotline"] in answer.json()["phone"]
    assert PhoneReveal.objects.filter(object_type="appeal", object_id=appeal.pk).count() == 2

    # A refused reveal (no reason) shows nothing and logs nothing.
    refused = client.post(reverse("intake:reveal_phone", args=[appeal.pk]), {"reason": ""})
    assert refused.status_code == 400 and not leaks(refused.content.decode())
    assert PhoneReveal.objects.count() == 3
    assert list(PhoneReveal.objects.order_by("id").values_list("user", flat=True)) == [center.pk] * 3
    # Revealed once, the next plain view of the page is masked again.
    assert not leaks(client.get(reverse("intake:appeal", args=[appeal.pk])).content.decode())
