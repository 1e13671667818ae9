"""A reveal on the callback page asks for a reason and lands in the central reveal log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import PhoneReveal
from surveys.models import CallbackEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def callback(make_callback):
    return make_callback(phone="13800002468")


def test_it_refuses_a_callback_reveal_without_a_reason(client, callback, center):
    client.force_login(center)
    response = client.post(f"/surveys/callbacks/{callback.pk}/reveal-phone/", {"reason": ""})
    assert response.status_code == 400
    assert "请填写查看事由" in response.content.decode()
    assert "13800002468" not in response.content.decode()
    assert not PhoneReveal.objects.exists()
    assert not CallbackEvent.objects.filter(action="reveal_phone").exists()


def test_it_logs_a_callback_reveal_in_the_central_log_with_reason_and_address(client, callback, center, administrator):
    client.force_login(center)
    response = client.post(
        f"/surveys/callbacks/{callback.pk}/reveal-phone/", {"reason": "回访不满意群众"}, REMOTE_ADDR="10.0.0.8"
    )
    assert response.status_code == 200 and "13800002468" in response.content.decode()
    log = PhoneReveal.objects.get()
    assert (log.user, log.reason, log.ip) == (center, "回访不满意群众", "10.0.0.8")
    assert (log.object_type, log.object_id) == ("callback", callback.pk)
    assert str(callback.pk) in log.object_label
    event = CallbackEvent.objects.get(callback=callback, action="reveal_phone")
    assert "回访不满意群众" in event.note
    client.force_login(administrator)
    page = client.get(reverse("intake:phone_reveals")).content.decode()
    assert "回访不满意群众" in page and "10.0.0.8" in page
    assert reverse("surveys:callback_detail", args=[callback.pk]) in page
