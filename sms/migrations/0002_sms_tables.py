"""The moved tables take the names of their app (surveys_outboundsms → sms_outboundsms, …): a
rename in the catalogue, whatever the number of rows (no copy, no rewrite; indexes, constraints
and identity sequences follow the table). The content types follow too, so that permissions
granted on these models and the admin's history stay attached."""

from django.db import migrations

MODELS = ("smstemplate", "outboundsms", "smsattempt", "deliverystatusevent", "senderbucket", "inboundsms", "optout")


def _move_content_types(apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    taken = set(content_type.objects.filter(app_label=target, model__in=MODELS).values_list("model", flat=True))
    content_type.objects.filter(app_label=source, model__in=[m for m in MODELS if m not in taken]).update(
        app_label=target
    )


def forwards(apps, schema_editor):
    _move_content_types(apps, "surveys", "sms")


def backwards(apps, schema_editor):
    _move_content_types(apps, "sms", "surveys")


class Migration(migrations.Migration):

    dependencies = [
        ('sms', '0001_move_from_surveys'),
        ('surveys', '0010_sms_models_moved'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelTable(
            name='deliverystatusevent',
            table=None,
        ),
        migrations.AlterModelTable(
            name='inboundsms',
            table=None,
        ),
        migrations.AlterModelTable(
            name='optout',
            table=None,
        ),
        migrations.AlterModelTable(
            name='outboundsms',
            table=None,
        ),
        migrations.AlterModelTable(
            name='senderbucket',
            table=None,
        ),
        migrations.AlterModelTable(
            name='smsattempt',
            table=None,
        ),
        migrations.AlterModelTable(
            name='smstemplate',
            table=None,
        ),
        migrations.RunPython(forwards, backwards),
    ]
