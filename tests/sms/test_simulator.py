"""The SMS simulator: administrators only, numbers masked, on only when explicitly enabled."""

from __future__ import annotations

import pytest

from sms.models import InboundSms, OutboundSms
from sms.outbox import send_one
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
