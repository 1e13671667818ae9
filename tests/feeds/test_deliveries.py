"""Results sent back to 12345/12389, against a fake platform server on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from feeds.choices import DeliveryStatus
from feeds.models import DeliveryAttempt, ResultDelivery
from feeds.services import (
    _claim_delivery,
    queue_result_delivery,
    retry_delivery,
    send_result_delivery,
    sweep_result_deliveries,
)
from intake.services import create_appeal
from units.models import Notification

from .conftest import RESULT_SECRET

RESULT = "经核查，滨江派出所已约谈施工单位，夜间22时后停止施工。"


@pytest.fixture
def platform(sources, fake_platform):
    source = sources["12345"]
    source.result_url = fake_platform.url
    source.result_secret = RESULT_SECRET
    source.save()
    return fake_platform


@pytest.fixture
def appeal(city):
    appeal, _ = create_appeal(
        channel="12345", external_id="SX20261120-0001", content="夜间施工噪音扰民。", citizen_phone="13800001234"
    )
    return appeal


def queue(appeal, text=RESULT, capture=None, **kwargs):
    with capture(execute=False):
        return queue_result_delivery(appeal, result_text=text, **kwargs)


def test_it_sends_the_signed_result_with_its_delivery_id(platform, appeal, django_capture_on_commit_callbacks):
    delivery = queue(appeal, capture=django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.PENDING
    sent = send_result_delivery(delivery.pk)
    assert sent.status == DeliveryStatus.DELIVERED
    assert sent.delivered_at is not None
    [call] = platform.calls
    assert platform.bad_signatures == 0
    assert call.headers["X-Delivery-Id"] == str(delivery.uuid)
    assert call.headers["Idempotency-Key"] == str(delivery.uuid)
    assert call.json["external_id"] == "SX20261120-0001"
    assert call.json["result"] == RESULT
    assert call.json["delivery_id"] == str(delivery.uuid)
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.http_status, attempt.error) == (1, 200, "")
    assert '"code": 200' in attempt.response_excerpt


def test_it_retries_with_back_off_until_the_platform_accepts(
    platform, appeal, settings, django_capture_on_commit_callbacks
):
    settings.RESULT_DELIVERY_BACKOFF_BASE = 30
    platform.answer(500, 503, 200)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        delivery = queue(appeal, capture=django_capture_on_commit_callbacks)
        first = send_result_delivery(delivery.pk)
        assert (first.status, first.attempts) == (DeliveryStatus.PENDING, 1)
        assert 29 <= (first.next_attempt_at - timezone.now()).total_seconds() <= 31
        assert "HTTP 500" in first.last_error
        assert send_result_delivery(delivery.pk) is None  # not due yet: nothing sent
        assert len(platform.calls) == 1

        traveller.shift(31)
        second = send_result_delivery(delivery.pk)
        assert (second.status, second.attempts) == (DeliveryStatus.PENDING, 2)
        assert 59 <= (second.next_attempt_at - timezone.now()).total_seconds() <= 61

        traveller.shift(61)
        third = send_result_delivery(delivery.pk)
        assert third.status == DeliveryStatus.DELIVERED
        assert send_result_delivery(delivery.pk) is None
    assert [a.http_status for a in delivery.attempt_rows.order_by("number")] == [500, 503, 200]
    assert len(platform.calls) == 3
    assert len({c.headers["X-Delivery-Id"] for c in platform.calls}) == 1


def test_it_queues_one_delivery_for_two_closes(platform, appeal, django_capture_on_commit_callbacks):
    first = queue(appeal, capture=django_capture_on_commit_callbacks)
    second = queue(appeal, capture=django_capture_on_commit_callbacks)
    assert first.pk == second.pk
    send_result_delivery(first.pk)
    send_result_delivery(second.pk)
    assert len(platform.calls) == 1
    assert ResultDelivery.objects.count() == 1
    # A new result after the appeal was reopened and closed again is a second delivery.
    other = queue(appeal, "重新办理后：施工单位已调整作业时间。", capture=django_capture_on_commit_callbacks)
    assert (other.sequence, ResultDelivery.objects.count()) == (2, 2)
    # An explicit sequence is the idempotency key when the caller has one.
    again = queue(appeal, "任意文本", capture=django_capture_on_commit_callbacks, sequence=2)
    assert again.pk == other.pk


def test_it_sends_after_commit(platform, appeal, django_capture_on_commit_callbacks, celery_eager):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = queue_result_delivery(appeal, result_text=RESULT)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(platform.calls) == 1


def test_it_queues_nothing_when_no_platform_takes_results(sources, appeal, city, django_capture_on_commit_callbacks):
    assert queue(appeal, capture=django_capture_on_commit_callbacks) is None  # 12345 has no result_url here
    hotline, _ = create_appeal(channel="hotline", content="热线来电。")
    assert queue(hotline, capture=django_capture_on_commit_callbacks) is None
    assert ResultDelivery.objects.count() == 0


def test_it_marks_a_refused_result_failed_and_tells_the_administrators(
    platform, appeal, administrator, django_capture_on_commit_callbacks
):
    platform.answer(400)
    delivery = queue(appeal, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        failed = send_result_delivery(delivery.pk)
    assert failed.status == DeliveryStatus.FAILED
    assert "HTTP 400" in failed.last_error
    assert send_result_delivery(delivery.pk) is None
    assert sweep_result_deliveries() == {"revived": 0, "sent": 0}
    assert Notification.objects.filter(user=administrator, level="info").count() == 1

    platform.answer(200)
    with django_capture_on_commit_callbacks(execute=False):
        retried = retry_delivery(failed, actor=administrator)
    assert (retried.status, retried.attempts) == (DeliveryStatus.PENDING, 0)
    assert send_result_delivery(delivery.pk).status == DeliveryStatus.DELIVERED
    assert delivery.attempt_rows.count() == 2


def test_it_parks_a_delivery_after_too_many_attempts(
    platform, appeal, administrator, settings, django_capture_on_commit_callbacks
):
    settings.RESULT_DELIVERY_MAX_ATTEMPTS = 2
    platform.answer(502)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        delivery = queue(appeal, capture=django_capture_on_commit_callbacks)
        send_result_delivery(delivery.pk)
        traveller.shift(3600)
        with django_capture_on_commit_callbacks(execute=True):
            parked = send_result_delivery(delivery.pk)
        assert parked.status == DeliveryStatus.PARKED
        traveller.shift(3600)
        assert sweep_result_deliveries() == {"revived": 0, "sent": 0}
    assert len(platform.calls) == 2
    alerts = Notification.objects.filter(user=administrator, dedupe_key=f"feeds-delivery-{delivery.pk}-parked")
    assert alerts.count() == 1


def test_it_records_an_unreachable_platform_and_tries_again(sources, appeal, django_capture_on_commit_callbacks):
    source = sources["12345"]
    source.result_url = "http://127.0.0.1:9/closed"
    source.save()
    delivery = queue(appeal, capture=django_capture_on_commit_callbacks)
    result = send_result_delivery(delivery.pk)
    assert result.status == DeliveryStatus.PENDING
    [attempt] = result.attempt_rows.all()
    assert attempt.http_status is None
    assert "ConnectionError" in attempt.error


def test_it_redrives_a_delivery_whose_worker_died_between_claim_and_send(
    platform, appeal, settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.RESULT_DELIVERY_SENDING_TIMEOUT = 120
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        delivery = queue(appeal, capture=django_capture_on_commit_callbacks)
        assert _claim_delivery(delivery.pk) is not None  # a worker claims it…
        assert _claim_delivery(delivery.pk) is None  # …so no other worker can
        # …and dies before calling the platform.
        assert sweep_result_deliveries() == {"revived": 0, "sent": 0}  # not stuck yet
        traveller.shift(121)
        assert sweep_result_deliveries() == {"revived": 1, "sent": 1}
        assert sweep_result_deliveries() == {"revived": 0, "sent": 0}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(platform.calls) == 1
    attempts = list(delivery.attempt_rows.order_by("number"))
    assert [a.http_status for a in attempts] == [None, 200]
    assert "中断" in attempts[0].error


def test_it_sweeps_due_deliveries_whose_message_was_lost(
    platform, appeal, celery_eager, django_capture_on_commit_callbacks
):
    delivery = queue(appeal, capture=django_capture_on_commit_callbacks)  # the task message never went out
    assert sweep_result_deliveries() == {"revived": 0, "sent": 1}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert sweep_result_deliveries() == {"revived": 0, "sent": 0}
    assert len(platform.calls) == 1


# --- Pages and API -------------------------------------------------------------------------------


@pytest.fixture
def delivered(platform, appeal, django_capture_on_commit_callbacks):
    platform.answer(500, 200)
    delivery = queue(appeal, capture=django_capture_on_commit_callbacks)
    send_result_delivery(delivery.pk)
    ResultDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    send_result_delivery(delivery.pk)
    return delivery


def test_it_lists_deliveries_with_their_attempts_for_center_staff(client, center, delivered):
    client.force_login(center)
    html = client.get("/feeds/deliveries/").content.decode()
    assert "SX20261120-0001" in html and "已送达" in html
    detail = client.get(f"/feeds/deliveries/{delivered.pk}/").content.decode()
    assert detail.count('data-testid="attempt"') == 2
    assert "500" in detail and "200" in detail
    assert client.get("/feeds/deliveries/?status=parked").content.decode().count('data-testid="delivery"') == 0


@pytest.mark.parametrize("username", ["handler", "leader", "supervisor"])
def test_it_keeps_delivery_pages_from_other_roles(client, delivered, username):
    client.login(username=username, password="demo12345")
    assert client.get("/feeds/deliveries/").status_code == 403
    assert client.get(f"/feeds/deliveries/{delivered.pk}/").status_code == 403
    assert client.post(f"/feeds/deliveries/{delivered.pk}/retry/").status_code == 403


def test_it_serves_deliveries_read_only_in_the_api(api, center, handler, delivered):
    assert api.as_user(handler).get("/api/v1/result-deliveries/").status_code == 403
    body = api.as_user(center).get("/api/v1/result-deliveries/").json()
    [item] = body["results"]
    assert item["status"] == "delivered"
    assert [a["http_status"] for a in item["attempt_rows"]] == [500, 200]
    assert api.as_user(center).post("/api/v1/result-deliveries/", {}).status_code == 405
    api.force_authenticate(user=None)
    assert api.get("/api/v1/result-deliveries/").status_code in (401, 403)


def test_it_shows_the_deliveries_on_the_appeal_page(client, center, delivered):
    client.force_login(center)
    response = client.get(f"/appeals/{delivered.appeal_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="appeal-deliveries"' in html
    assert "已送达" in html


def test_it_offers_a_stand_in_platform_for_demos(client, sources, settings):
    from feeds import signing
    from feeds.models import FeedSource

    FeedSource.objects.filter(code="12345").update(result_secret="demo-secret")
    body = b'{"source": "12345", "result": "\xe5\x8a\x9e\xe7\xbb\x93"}'
    settings.FEED_DEMO_PLATFORM = True
    url = "/feeds/demo-platform/results/"
    good = signing.signed_headers("demo-secret", body)
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in good.items()}
    assert client.post(url, body, content_type="application/json", **headers).status_code == 200
    bad = {**headers, "HTTP_X_SIGNATURE": signing.sign("wrong", body, timestamp=good["X-Timestamp"])}
    assert client.post(url, body, content_type="application/json", **bad).status_code == 401
    settings.FEED_DEMO_PLATFORM = False
    assert client.post(url, body, content_type="application/json", **headers).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_delivery_when_the_broker_is_down_and_sends_it_from_the_sweeper(platform, appeal, celery_eager):
    """A close in a process whose broker is unreachable still commits (and succeeds); the
    delivery row waits for the sweeper."""
    import os
    import subprocess
    import sys

    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    script = (
        "import django; django.setup()\n"
        "from django.db import transaction\n"
        "from intake.models import Appeal\n"
        "from feeds.services import queue_result_delivery\n"
        "with transaction.atomic():\n"
        f"    d = queue_result_delivery(Appeal.objects.get(pk={appeal.pk}), result_text='已办结', sequence=1)\n"
        "print(d.pk)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opinion_center.settings",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing listens there
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    delivery = ResultDelivery.objects.get(pk=int(done.stdout.strip().splitlines()[-1]))
    assert delivery.status == DeliveryStatus.PENDING
    assert platform.calls == []
    assert sweep_result_deliveries() == {"revived": 0, "sent": 1}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(platform.calls) == 1
