"""``rectification_order_id`` (ratings, callbacks) and ``import_batch_id`` (service records) were
plain integers, a guard against the work-order and feeds apps being absent: they become real
foreign keys on the same columns. Values are kept; one whose order or batch no longer exists is set
to NULL first (set-wise), then the constraints are added. No column is rewritten."""

import django.db.models.deletion
from django.db import migrations, models

LINKS = [
    # table, column, referenced table, index it?
    ("surveys_rating", "rectification_order_id", "workorders_workorder", True),
    ("surveys_callback", "rectification_order_id", "workorders_workorder", True),
    ("surveys_servicerecord", "import_batch_id", "feeds_importbatch", False),
]


def _statements(vendor: str, forward: bool) -> list[str]:
    """PostgreSQL gets the constraints; SQLite (the embedded demo) cannot add a constraint to an
    existing table and keeps the values and the indexes only."""
    done = []
    for table, column, target, indexed in LINKS:
        name = f"{table}_{column}_fk"
        if forward:
            done.append(
                f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {target} x WHERE x.id = {table}.{column})"
            )
            if vendor == "postgresql":
                done.append(
                    f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) REFERENCES {target} (id) "
                    "DEFERRABLE INITIALLY DEFERRED"
                )
            if indexed:
                done.append(f"CREATE INDEX {table}_{column}_idx ON {table} ({column})")
        else:
            if indexed:
                done.append(f"DROP INDEX IF EXISTS {table}_{column}_idx")
            if vendor == "postgresql":
                done.append(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    return done


def _run(forward: bool):
    def run(apps, schema_editor):
        for statement in _statements(schema_editor.connection.vendor, forward):
            schema_editor.execute(statement)

    return run


def _fk(to: str, label: str, **extra):
    return models.ForeignKey(
        to,
        verbose_name=label,
        null=True,
        blank=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name="+",
        **extra,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0010_sms_models_moved"),
        ("workorders", "0009_reply_templates"),
        ("feeds", "0003_open311_requests"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_run(True), _run(False))],
            state_operations=[
                migrations.RemoveField(model_name="rating", name="rectification_order_id"),
                migrations.AddField(
                    model_name="rating", name="rectification_order", field=_fk("workorders.workorder", "整改工单")
                ),
                migrations.RemoveField(model_name="callback", name="rectification_order_id"),
                migrations.AddField(
                    model_name="callback", name="rectification_order", field=_fk("workorders.workorder", "整改工单")
                ),
                migrations.RemoveField(model_name="servicerecord", name="import_batch_id"),
                migrations.AddField(
                    model_name="servicerecord",
                    name="import_batch",
                    field=_fk("feeds.importbatch", "导入批次", db_index=False),
                ),
            ],
        ),
    ]
