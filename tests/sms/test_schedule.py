"""Every task that beat, the settings or the SMS layer calls by name exists: a renamed task that
beat still calls by its old name is a message no worker takes."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from opinion_center.celery import app as celery_app
from sms import wake


def registered() -> set[str]:
    celery_app.loader.import_default_modules()  # what a worker imports when it starts
    return set(celery_app.tasks)


def test_every_task_of_the_beat_schedule_is_registered():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "sms.tasks.sweep_sms_task" in names
    assert not names - registered()


def test_every_task_the_sms_layer_publishes_by_name_is_registered():
    assert set(wake.TASK_NAMES) <= registered()


def test_every_routed_task_pattern_matches_a_registered_task():
    tasks = registered()
    for pattern in settings.CELERY_TASK_ROUTES:
        prefix = pattern.split("*")[0]
        assert any(name.startswith(prefix) for name in tasks), pattern


@pytest.mark.django_db
def test_beat_rows_stored_under_the_old_names_are_renamed_to_registered_tasks():
    every_minute, _created = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="surveys-sms-sweeper", task="surveys.tasks.sweep_sms_task", interval=every_minute)
    PeriodicTask.objects.create(
        name="sms-resend", task="surveys.tasks.send_sms_task", interval=every_minute, args="[1]"
    )
    migration = import_module("sms.migrations.0003_beat_task_names")

    migration.forwards(apps, None)

    rows = dict(PeriodicTask.objects.values_list("name", "task"))
    assert rows["sms-sweeper"] == "sms.tasks.sweep_sms_task"
    assert "surveys-sms-sweeper" not in rows
    assert rows["sms-resend"] == "sms.tasks.send_sms_task"
    stored = set(PeriodicTask.objects.exclude(task="celery.backend_cleanup").values_list("task", flat=True))
    assert not stored - registered()


@pytest.mark.django_db
def test_the_renamed_entry_is_dropped_when_beat_already_made_the_new_one():
    every_minute, _created = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="surveys-sms-sweeper", task="surveys.tasks.sweep_sms_task", interval=every_minute)
    PeriodicTask.objects.create(name="sms-sweeper", task="sms.tasks.sweep_sms_task", interval=every_minute)

    import_module("sms.migrations.0003_beat_task_names").forwards(apps, None)

    assert list(PeriodicTask.objects.filter(name__contains="sweeper").values_list("name", "task")) == [
        ("sms-sweeper", "sms.tasks.sweep_sms_task")
    ]
