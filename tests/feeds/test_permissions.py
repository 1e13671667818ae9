"""The feeds' actions are offered exactly to whom they are allowed: for each role, a handler of
another unit and a superuser whose role is not the administrator's, the import form, the
delivery's 重新发送 and the appeal page's link to a delivery are on the page if and only if the
action works (page, POST and API alike), and ``feeds.permissions`` decides them all."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from feeds import permissions
from feeds.choices import DeliveryStatus
from feeds.models import ImportBatch, ResultDelivery
from feeds.services import generate_source_key, queue_result_delivery, retry_delivery
from intake.services import create_appeal

from .test_imports import GOOD, csv_bytes

pytestmark = pytest.mark.django_db

CAST = ("center", "handler", "leader", "handler2", "supervisor", "administrator", "superuser")


@pytest.fixture
def delivery(sources, city, django_capture_on_commit_callbacks) -> ResultDelivery:
    """A result the 12345 platform did not take: failed, waiting for someone to send it again."""
    source = sources["12345"]
    source.result_url = "https://12345.example.invalid/results"
    source.result_secret = "result-secret"
    source.save()
    appeal, _ = create_appeal(
        channel="12345", external_id="SX-PERM-0001", content="夜间施工噪音扰民。", citizen_phone="13800006601"
    )
    with django_capture_on_commit_callbacks(execute=False):
        made = queue_result_delivery(appeal, result_text="已约谈施工单位，夜间停止施工。")
    ResultDelivery.objects.filter(pk=made.pk).update(status=DeliveryStatus.FAILED)
    made.refresh_from_db()
    return made


@pytest.mark.parametrize("name", CAST)
def test_the_retry_button_is_shown_exactly_when_the_retry_works(
    name, request, client, api, delivery, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(name)
    client.force_login(user)
    page = client.get(f"/feeds/deliveries/{delivery.pk}/")
    shown = page.status_code == 200 and 'data-testid="retry"' in page.content.decode()
    assert shown == permissions.may_retry_delivery(user, delivery), name
    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"/feeds/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert (delivery.status == DeliveryStatus.PENDING) == shown, name
    # The API lists deliveries to the same people.
    assert (api.as_user(user).get(f"/api/v1/result-deliveries/{delivery.pk}/").status_code == 200) == shown, name
    if not shown:
        with pytest.raises(PermissionDenied):
            retry_delivery(delivery, actor=user)


def test_a_delivered_result_offers_no_retry_and_a_post_says_so(client, center, delivery):
    ResultDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DELIVERED)
    client.force_login(center)
    assert 'data-testid="retry"' not in client.get(f"/feeds/deliveries/{delivery.pk}/").content.decode()
    answer = client.post(f"/feeds/deliveries/{delivery.pk}/retry/", follow=True)
    assert "未重新发送" in answer.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize("name", CAST)
def test_the_appeal_page_links_a_delivery_exactly_for_whom_its_page_opens(name, request, client, delivery):
    user = request.getfixturevalue(name)
    client.force_login(user)
    appeal_page = client.get(f"/appeals/{delivery.appeal_id}/")
    linked = (
        appeal_page.status_code == 200 and f'href="/feeds/deliveries/{delivery.pk}/"' in appeal_page.content.decode()
    )
    if appeal_page.status_code == 200:
        assert 'data-testid="appeal-deliveries"' in appeal_page.content.decode()
        assert linked == (client.get(f"/feeds/deliveries/{delivery.pk}/").status_code == 200), name


@pytest.mark.parametrize("name", CAST)
def test_the_import_form_is_shown_exactly_to_whom_an_upload_is_taken(name, request, client, api, sources):
    user = request.getfixturevalue(name)
    client.force_login(user)
    page = client.get("/feeds/imports/")
    shown = page.status_code == 200 and 'data-testid="import-form"' in page.content.decode()
    assert shown == permissions.may_import(user), name
    upload = SimpleUploadedFile(f"{name}.csv", csv_bytes(GOOD))
    client.post("/feeds/imports/", {"source": sources["12345"].pk, "file": upload})
    assert ImportBatch.objects.exists() == shown, name
    assert (api.as_user(user).get("/api/v1/import-batches/").status_code == 200) == shown, name


def test_only_administrators_issue_a_source_key(request, sources):
    for name in CAST:
        user = request.getfixturevalue(name)
        allowed = permissions.may_manage_source_keys(user)
        assert allowed == (name in ("administrator", "superuser")), name
        if allowed:
            assert generate_source_key(sources["12389"], actor=user)
        else:
            with pytest.raises(PermissionDenied):
                generate_source_key(sources["12389"], actor=user)


def test_the_admin_offers_the_key_action_only_to_whom_it_is_allowed(rf, center, administrator):
    from django.contrib.admin.sites import site

    from feeds.models import FeedSource

    model_admin = site._registry[FeedSource]
    for user, allowed in ((administrator, True), (center, False)):
        http = rf.get("/admin/feeds/feedsource/")
        http.user = user
        assert ("generate_new_key" in model_admin.get_actions(http)) == allowed
