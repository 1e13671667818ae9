"""Who may see a work order, stored on the row: ``scope_units`` lists the ids on the paths of its
lead and assisting units, so "visible to station X" is one GIN lookup instead of a path match ORed
with a semi-join over the assisting units. Backfilled set-wise, then the appeals' scopes are
recomputed with their orders' units (the intake migration filled them from the lead unit only).
"""

from django.db import migrations, models

from intake.models import appeal_scope_sql
from workorders.models import work_order_scope_sql


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(work_order_scope_sql("true"))
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS workorder_scope_units ON workorders_workorder "
        "USING gin (scope_units jsonb_path_ops)"
    )
    schema_editor.execute(
        appeal_scope_sql("a2.id IN (SELECT appeal_id FROM workorders_workorder)", with_work_orders=True)
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS workorder_scope_units")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0010_appeal_scope_units"),
        ("workorders", "0006_period_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="workorder",
            name="scope_units",
            field=models.JSONField(
                db_default=models.Value([], output_field=models.JSONField()), default=list, editable=False
            ),
        ),
        migrations.RunPython(backfill, drop),
    ]
