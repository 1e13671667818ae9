"""A unit's open appeals of a status, in desk order, read from its ``AppealScopeEntry`` rows.

The desk's open status tabs (待研判, 待派单, 办理中) and their bounded counts found a unit's
appeals through the GIN of ``scope_units`` ANDed with the status index of every unit: at 10M
appeals a station seeing 55,299 appeals, over 1,000 of them dispatched, built both bitmaps (55k
and 231k entries) for each count, 66 ms for the dispatched tab's. A btree on (unit, status, desk
order) of the open statuses' entries reads at most the page, or the count's cap, of the unit's own.

Built concurrently on PostgreSQL (no write lock on the entries of ten million appeals); elsewhere
the ordinary schema operation runs.
"""

from django.db import migrations, models

INDEX = models.Index(
    fields=["unit", "status", "severity_rank", "received_at", "appeal"],
    condition=models.Q(status__in=["dispatched", "new", "pending_dispatch"]),
    name="appeal_scope_open",
)


def forward(apps, schema_editor):
    model = apps.get_model("intake", "AppealScopeEntry")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(model, INDEX)
        return
    create = str(INDEX.create_sql(model, schema_editor, concurrently=True))
    schema_editor.execute(create.replace("CREATE INDEX CONCURRENTLY", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1))
    schema_editor.execute("ANALYZE intake_appealscopeentry")


def backward(apps, schema_editor):
    model = apps.get_model("intake", "AppealScopeEntry")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(model, INDEX)
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appeal_scope_open")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intake", "0014_appealscopeentry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="appealscopeentry", index=INDEX)],
            database_operations=[migrations.RunPython(forward, backward)],
        )
    ]
