"""Who sees which open orders, in an index of open orders only; the urge index no longer doubles
as a filter of every open order.

The workspace tabs, their counts, the 待签收 menu count and the unit home panel all ask for open
orders (a status of ``OPEN_STATUSES``) visible to a unit. Through ``workorder_scope_units`` (every
order, closed ones included) each of those read the unit's whole history and threw the closed
orders away: at 1M orders a demo station held 5,685 orders of which 180 open, and the read grows
with every closed year. ``workorder_scope_open`` holds open orders only, keyed by scope *and*
status (``btree_gin``), so a tab's one index scan returns exactly the unit's orders of that tab.
With the scope alone in it, the planner ANDed in a status index of every unit's open orders
(``workorder_status_due``, 11,296 entries at 1M, growing with the city).

It also ANDed in ``workorder_urge_due`` (``next_urge_at`` of every order with a unit) because its
condition matched "status with the unit". Its replacement ``workorder_urge_next`` also requires
``next_urge_at`` to be set, which only the urge job asks for.

On PostgreSQL both are built and the old index dropped concurrently (no write lock on a 10M-row
table); elsewhere the ordinary schema operations run.
"""

from django.db import migrations, models

from units.migration_indexes import create_index, drop_index
from workorders.choices import OPEN_STATUSES, WITH_UNIT

OPEN = ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES))

URGE_OLD = models.Index(
    fields=["next_urge_at"], condition=models.Q(status__in=sorted(WITH_UNIT)), name="workorder_urge_due"
)
URGE_NEW = models.Index(
    fields=["next_urge_at"],
    condition=models.Q(status__in=sorted(WITH_UNIT), next_urge_at__isnull=False),
    name="workorder_urge_next",
)


def _model(apps):
    return apps.get_model("workorders", "WorkOrder")


def forward(apps, schema_editor):
    model = _model(apps)
    if schema_editor.connection.vendor == "postgresql":
        # btree_gin puts a plain column beside the JSON in one GIN index (a trusted extension since
        # PostgreSQL 13: the database owner may create it).
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS workorder_scope_open ON workorders_workorder "
            f"USING gin (scope_units jsonb_path_ops, status) WHERE status IN ({OPEN})"
        )
    create_index(schema_editor, model, URGE_NEW, analyze=False)
    drop_index(schema_editor, model, URGE_OLD)


def backward(apps, schema_editor):
    model = _model(apps)
    create_index(schema_editor, model, URGE_OLD, analyze=False)
    drop_index(schema_editor, model, URGE_NEW)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS workorder_scope_open")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workorders", "0009_reply_templates"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="workorder", name="workorder_urge_due"),
                migrations.AddIndex(model_name="workorder", index=URGE_NEW),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        )
    ]
