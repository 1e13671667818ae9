"""The SMS tasks are now ``sms.tasks.*``. django-celery-beat keeps its schedule in the database and
never deletes an entry the settings no longer name, so a row still calling
``surveys.tasks.sweep_sms_task`` would keep firing a task no worker knows: the rows are renamed
here (task and entry name), set-wise; a fresh database has none and beat creates them."""

from django.db import migrations

TASKS = {
    "surveys.tasks.sweep_sms_task": "sms.tasks.sweep_sms_task",
    "surveys.tasks.send_sms_task": "sms.tasks.send_sms_task",
    "surveys.tasks.run_sms_sender_task": "sms.tasks.run_sms_sender_task",
}
ENTRIES = {"surveys-sms-sweeper": "sms-sweeper"}


def _rename(apps, tasks: dict, entries: dict) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in entries.items():
        if periodic_task.objects.filter(name=new).exists():
            periodic_task.objects.filter(name=old).delete()  # beat already made the new entry
        else:
            periodic_task.objects.filter(name=old).update(name=new)
    for old, new in tasks.items():
        periodic_task.objects.filter(task=old).update(task=new)


def forwards(apps, schema_editor):
    _rename(apps, TASKS, ENTRIES)


def backwards(apps, schema_editor):
    _rename(apps, {v: k for k, v in TASKS.items()}, {v: k for k, v in ENTRIES.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("sms", "0002_sms_tables"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
