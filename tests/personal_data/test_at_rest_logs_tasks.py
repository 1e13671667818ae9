"""Citizens' numbers are encrypted at rest, hashed with a key, and never reach a task message or a
log line (ARCHITECTURE rule 8), checked over one flow through every door a number comes in by."""

from __future__ import annotations

import hashlib

import pytest
from django.apps import apps
from django.db import connection

from intake.phones import EncryptedPhoneField, phone_hash

from .conftest import ID_CARD, PHONES, leaks

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"units", "intake", "feeds", "workorders", "surveys", "analytics"}


def phone_fields():
    """(model, field) for every column that holds a citizen's number."""
    return [
        (model, f)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedPhoneField)
    ]


def test_every_phone_column_of_the_flow_is_ciphertext_and_its_hash_is_keyed(flow):
    seen = set()
    for model, f in phone_fields():
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT id, "{f.column}" FROM "{model._meta.db_table}" WHERE "{f.column}" <> \'\'')
            rows = cursor.fetchall()
        assert rows, f"the flow stores no number in {model._meta.label}.{f.name}"
        for pk, raw in rows:
            assert raw.startswith("gAAAA"), f"{model._meta.label}.{f.name} #{pk} is not a Fernet token"
            assert not leaks(raw), f"{model._meta.label}.{f.name} #{pk} holds a number in clear"
            e164 = getattr(model.objects.get(pk=pk), f.name)
            hash_name = f"{f.name}_hash"
            if hash_name in {x.name for x in model._meta.concrete_fields}:
                digest = getattr(model.objects.get(pk=pk), hash_name)
                assert digest == phone_hash(e164)
                for form in (e164, e164.removeprefix("+86")):
                    assert digest != hashlib.sha256(form.encode()).hexdigest()  # keyed, not a plain digest
                    assert form not in digest
            seen.add(e164.removeprefix("+86"))
    assert seen >= set(PHONES.values())


def test_no_table_holds_a_number_in_clear_after_the_flow(flow):
    """Every row of every table (timelines, notifications, JSON payloads, row reports, task
    results, the admin log…) as text: none carries a full number the flow entered."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            for (text,) in cursor.fetchall():
                hit = leaks(text)
                if hit:
                    found.append((table, hit, text[:200]))
    assert not found


def test_no_task_message_carries_a_number(flow):
    assert flow.tasks, "the flow sent no task at all: the capture is broken"
    assert any("run_sms_sender_task" in t for t in flow.tasks)  # the SMS sender loop, woken after commit
    found = [t for t in flow.tasks if leaks(t) or ID_CARD in t]
    assert not found


def test_no_log_record_carries_a_number_or_an_id_card_number(flow, caplog):
    assert flow.log_lines, "the flow logged nothing: the capture is broken"
    found = [line for line in flow.log_lines if leaks(line) or ID_CARD in line]
    assert not found
    found = [r.getMessage() for r in caplog.records if leaks(r.getMessage()) or ID_CARD in r.getMessage()]
    assert not found


def test_a_task_published_to_the_real_broker_carries_ids_only(
    center, handler, station, django_capture_on_commit_callbacks
):
    """Not eager: the message as it goes to Redis (``before_task_publish``), for an SMS queued by
    closing a work order and a result queued for 12345."""
    from celery.signals import before_task_publish

    from feeds.models import FeedSource
    from intake import services as intake
    from opinion_center.celery import app as celery_app
    from sms.models import StepNotice
    from workorders import services as workorders

    FeedSource.objects.create(
        code="12345", name="12345政务服务热线", kind="appeals", channel="12345", result_url="http://127.0.0.1:9/results"
    )
    # A bureau that tells 12345 callers itself: the close queues an SMS beside the result.
    StepNotice.objects.update_or_create(channel="12345", defaults={"platform_informs": False, "closure": True})
    sent = []

    def on_publish(sender=None, body=None, headers=None, **kwargs):
        sent.append(f"{sender} {body!r} {headers!r}")

    before_task_publish.connect(on_publish, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            appeal, _ = intake.create_appeal(
                channel="12345", external_id="PD-PUB-1", content="路灯不亮", citizen_phone=PHONES["feed"]
            )
            order = workorders.dispatch_appeal(appeal, unit=station, actor=center)
            workorders.sign_for(order, actor=handler)
            workorders.submit_feedback(order, actor=handler, text="已修复", result="resolved", contact_method="phone")
            workorders.approve(order, actor=center)
            workorders.close(order, actor=center, reply="已修复。")
    finally:
        before_task_publish.disconnect(on_publish)
        celery_app.control.purge()  # this test run's own Redis db: nothing is left queued
    assert any("run_sms_sender_task" in m for m in sent), sent
    assert not [m for m in sent if leaks(m)]
