"""The SMS simulator: administrators only, numbers masked, on only when explicitly enabled; search
by phone, paging, each message's state with its reason, "立即发送（演示）", links that follow the host."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sms.choices import SmsStatus
from sms.models import InboundSms, OutboundSms
from sms.outbox import send_one
from sms.selectors import PHONES_PER_PAGE, state_reason
from sms.services import queue_sms
from surveys.models import Rating
from surveys.services.records import run_evaluation

pytestmark = pytest.mark.django_db

SIMULATOR = "/sms/simulator/"


@pytest.fixture
def simulator_on(settings):
    settings.SMS_SIMULATOR_ENABLED = True
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    return settings


@pytest.fixture
def sent_sms(always_open, make_record):
    record = make_record(phone="13800001111")
    run_evaluation()
    sms = OutboundSms.objects.get(service_record=record)
    send_one(sms.pk)
    return sms


def test_it_refuses_the_simulator_to_staff_who_are_not_administrators(client, simulator_on, sent_sms, handler2, center):
    for user in (handler2, center):
        client.force_login(user)
        assert client.get(SIMULATOR).status_code == 403
        assert client.post(SIMULATOR, {"phone_ref": sent_sms.pk, "body": "3"}).status_code == 403
    assert not InboundSms.objects.exists()
    assert not Rating.objects.exists()


def test_it_shows_administrators_masked_numbers_only(client, simulator_on, sent_sms, administrator):
    client.force_login(administrator)
    page = client.get(SIMULATOR).content.decode()
    assert sent_sms.text in page
    assert "138****1111" in page
    assert "13800001111" not in page
    assert "+8613800001111" not in page


def test_it_lets_an_administrator_answer_as_the_citizen(client, simulator_on, sent_sms, administrator):
    client.force_login(administrator)
    response = client.post(SIMULATOR, {"phone_ref": sent_sms.pk, "body": "3 民警没来"})
    assert response.status_code == 302
    assert Rating.objects.get().sms_id == sent_sms.pk


def test_it_keeps_the_simulator_off_unless_enabled_even_with_debug(client, settings, sent_sms, administrator):
    settings.DEBUG = True
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    settings.SMS_SIMULATOR_ENABLED = False
    client.force_login(administrator)
    assert client.get(SIMULATOR).status_code == 404
    assert client.post(SIMULATOR, {"phone_ref": sent_sms.pk, "body": "3"}).status_code == 404
    assert not InboundSms.objects.exists()


def test_it_leaves_the_simulator_off_by_default_in_settings(tmp_path):
    """DEBUG alone never turns it on: the default comes from SMS_SIMULATOR_ENABLED only."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SMS_SIMULATOR", "DJANGO_SETTINGS_MODULE"))}
    environ.update(DJANGO_DEBUG="1", DJANGO_ENV_FILE=str(env_file), DJANGO_SETTINGS_MODULE="opinion_center.settings")
    code = "from django.conf import settings; print(settings.SMS_SIMULATOR_ENABLED)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=environ, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    environ["SMS_SIMULATOR_ENABLED"] = "1"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=environ, capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr


# --- demos at any hour: search, paging, states with reasons, send now, links ---------------------


def queue(phone: str, **kwargs) -> OutboundSms:
    return queue_sms(phone=phone, template_code="urge_reminder", params=REMINDER, purpose="other", **kwargs)


REMINDER = {"order": "GD20261207-000001", "when": "12月8日 18:00"}


def test_it_finds_one_phone_by_its_full_number_without_putting_it_in_the_address(
    client, simulator_on, administrator, always_open
):
    queue("13800003001")
    queue("13800003002")
    client.force_login(administrator)
    response = client.post(SIMULATOR, {"search": "1", "phone": "138 0000 3002"})
    assert response.status_code == 302
    assert "13800003002" not in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "138****3002" in page and "138****3001" not in page
    assert client.post(SIMULATOR, {"search": "1", "phone": "12"}).status_code == 200  # the error, on the page


def test_it_pages_through_the_phones(client, simulator_on, administrator, always_open):
    for n in range(PHONES_PER_PAGE + 3):
        queue(f"1380000{4000 + n:04d}")
    client.force_login(administrator)
    first = client.get(SIMULATOR).content.decode()
    second = client.get(SIMULATOR + "?page=2").content.decode()
    assert first.count('data-testid="sim-thread"') == PHONES_PER_PAGE
    assert second.count('data-testid="sim-thread"') == 3
    assert "138****4000" in second and "138****4000" not in first  # the oldest phone comes last
    assert client.get(SIMULATOR + "?page=zz").status_code == 200


def test_it_says_why_each_message_waits(client, simulator_on, administrator, always_open):
    now = timezone.now()
    later = queue("13800005002", send_after=now + dt.timedelta(hours=30))
    retry = queue("13800005003")
    OutboundSms.objects.filter(pk=retry.pk).update(
        attempts=2, next_attempt_at=now + dt.timedelta(minutes=10), last_error="HTTP 503"
    )
    failed = queue("13800005004")
    OutboundSms.objects.filter(pk=failed.pk).update(status=SmsStatus.FAILED, last_error="号码已退订")
    client.force_login(administrator)
    page = client.get(SIMULATOR).content.decode()
    assert "待发送：预约" in page
    assert "待发送：第2次发送失败" in page and "HTTP 503" in page
    assert "发送失败：号码已退订" in page
    for sms in (later, retry):
        assert f'name="send_now" value="{sms.pk}"' in page
    assert f'name="send_now" value="{failed.pk}"' not in page


def test_a_message_outside_the_sending_hours_names_the_window(settings):
    hour = timezone.localtime().hour
    start, end = f"{(hour + 2) % 24:02d}:00", f"{(hour + 3) % 24:02d}:00"
    settings.SMS_SEND_HOURS = f"{start}-{end}"  # closed now, whatever the time of the run
    sms = queue("13800005001")
    assert state_reason(sms) == f"待发送：发送时段 {start}–{end}"


def test_state_reason_names_the_pace_when_nothing_else_holds_a_message(always_open):
    sms = queue("13800005101")
    assert state_reason(sms) == "待发送：按发送速率排队"
    assert state_reason(sms, opted_out=True) == "待发送：号码已退订"


def test_send_now_sends_one_queued_message_through_the_outbox_at_any_hour(
    client, simulator_on, administrator, settings
):
    settings.SMS_SEND_HOURS = "00:00-00:01"  # closed nearly all day
    later = queue("13800005201", send_after=timezone.now() + dt.timedelta(days=1))
    other = queue("13800005202")
    client.force_login(administrator)
    response = client.post(SIMULATOR, {"send_now": later.pk, "back": "page=1&x=1"})
    assert response.status_code == 302 and response["Location"] == SIMULATOR + "?page=1"
    later.refresh_from_db()
    other.refresh_from_db()
    assert later.status in (SmsStatus.SENT, SmsStatus.DELIVERED) and later.backend == "outbox"
    assert other.status == SmsStatus.QUEUED
    again = client.post(SIMULATOR, {"send_now": later.pk})
    assert again.status_code == 302 and OutboundSms.objects.filter(pk=later.pk).count() == 1


def test_send_now_is_for_administrators_of_an_enabled_simulator_only(client, settings, administrator, center):
    later = queue("13800005301", send_after=timezone.now() + dt.timedelta(days=1))
    settings.SMS_BACKEND = "sms.backends.OutboxBackend"
    settings.SMS_SIMULATOR_ENABLED = True
    client.force_login(center)
    assert client.post(SIMULATOR, {"send_now": later.pk}).status_code == 403
    settings.SMS_SIMULATOR_ENABLED = False
    client.force_login(administrator)
    assert client.post(SIMULATOR, {"send_now": later.pk}).status_code == 404
    later.refresh_from_db()
    assert later.status == SmsStatus.QUEUED


def test_links_of_demo_sms_follow_the_public_url_or_the_host_and_port_of_the_request(
    client, simulator_on, administrator, always_open, settings
):
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["demo.test", "10.0.0.7"]
    queue_sms(
        phone="13800005401",
        template_code="survey_invite",
        params={"link": "/s/AbCdEf123/"},
        purpose="survey",
    )
    client.force_login(administrator)
    page = client.get(SIMULATOR, HTTP_HOST="demo.test:8765").content.decode()
    assert "http://demo.test:8765/s/AbCdEf123/" in page
    page = client.get(SIMULATOR, HTTP_HOST="10.0.0.7:9001").content.decode()
    assert "http://10.0.0.7:9001/s/AbCdEf123/" in page and "8000" not in page.split("AbCdEf123")[0][-40:]
    settings.PUBLIC_BASE_URL = "https://mydc.example.org"
    page = client.get(SIMULATOR, HTTP_HOST="demo.test:8765").content.decode()
    assert "https://mydc.example.org/s/AbCdEf123/" in page


def test_the_demo_writes_survey_links_without_a_fixed_host(settings):
    from surveys.models import Survey, SurveyInvitation
    from surveys.services.polls import survey_link

    settings.PUBLIC_BASE_URL = ""
    invitation = SurveyInvitation(survey=Survey(title="t"), token="AbC123")
    assert survey_link(invitation) == "/s/AbC123/"
    settings.PUBLIC_BASE_URL = "https://mydc.example.org/"
    assert survey_link(invitation) == "https://mydc.example.org/s/AbC123/"
