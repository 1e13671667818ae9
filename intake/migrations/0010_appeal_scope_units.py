"""Who may see an appeal, stored on the row: ``scope_units`` lists the ids on the paths of its lead
unit and of every unit holding one of its work orders, so "visible to station X" is one GIN lookup
(``scope_units @> '[X]'``) instead of a path match ORed with an EXISTS over every work order.

Backfilled set-wise from the lead unit here; the work-orders migration adds its orders' units.
The GIN index (jsonb_path_ops: only ``@>`` is asked of it) exists on PostgreSQL only, where the
column is read; SQLite evaluates the rule itself.
"""

from django.db import migrations, models

from intake.models import appeal_scope_sql


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(appeal_scope_sql("a2.unit_id IS NOT NULL", with_work_orders=False))
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS appeal_scope_units ON intake_appeal USING gin (scope_units jsonb_path_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS appeal_scope_units")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0009_phone_reveal_reason_and_object"),
    ]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="scope_units",
            field=models.JSONField(
                db_default=models.Value([], output_field=models.JSONField()), default=list, editable=False
            ),
        ),
        migrations.RunPython(backfill, drop),
    ]
