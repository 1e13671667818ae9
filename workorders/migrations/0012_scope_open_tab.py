"""A unit's open orders of a status, in deadline order, read from its ``ScopeEntry`` rows.

The open tabs (待签收, 办理中, 即将到期, 已超期, 退回重办, 待审核), their counts and the 待签收
menu count of a unit user found the unit's orders through the GIN index ``workorder_scope_open``
(``scope_units @> [unit]``) and ordered them by the order's deadline. PostgreSQL estimates a JSON
containment with a fixed guess, not from statistics, so it could prefer an index of every unit's
orders (``workorder_review`` of the whole review queue, ``workorder_due`` of every deadline) and
filter it under the page's LIMIT: a station's 待审核 count read 500 orders for the 160 open it
had, its 即将到期 page 221, and those reads grow with the province.

The entries get the order's deadline (``due_at``) and a btree on (unit, status, due_at, order) of
the open statuses: estimated from the statistics of plain columns, it returns exactly the unit's
orders of the tab, in the tab's order for a one-status tab; the open tabs sort by the entry's copy
of the deadline, which no index of every unit's orders serves.

The steps: the column (no default, no rewrite); the trigger functions and the update trigger's
WHEN clause with the deadline (an extension or a recomputed deadline rewrites the order's
entries); the deadline of the open orders' entries, set-wise (finished orders' entries keep none:
no list reads it); the index, built concurrently. Elsewhere (SQLite) the schema operations only.
"""

from django.db import migrations, models, transaction

from units.migration_indexes import create_index, drop_index
from workorders.choices import OPEN_STATUSES

OPEN = ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES))
INDEX = models.Index(
    fields=["unit", "status", "due_at", "order"],
    condition=models.Q(status__in=sorted(OPEN_STATUSES)),
    name="scope_open_tab",
)

COLUMNS = "order_id, unit_id, status, dispatched_at, closed_at, updated_at, due_at"
CHANGED = (
    "OLD.scope_units IS DISTINCT FROM NEW.scope_units OR OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.dispatched_at IS DISTINCT FROM NEW.dispatched_at OR OLD.closed_at IS DISTINCT FROM NEW.closed_at"
    " OR OLD.updated_at IS DISTINCT FROM NEW.updated_at OR OLD.due_at IS DISTINCT FROM NEW.due_at"
)


def insert_new(columns: str, values: str) -> str:
    return (
        f"INSERT INTO workorders_scopeentry ({columns}) SELECT {values}"
        " FROM jsonb_array_elements_text(NEW.scope_units) x(u) ON CONFLICT DO NOTHING"
    )


def functions(columns: str, values: str, changed: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION workorders_scope_entries_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {insert_new(columns, values)};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION workorders_scope_entries_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.scope_units <> '[]'::jsonb THEN
        DELETE FROM workorders_scopeentry WHERE order_id = OLD.id;
    END IF;
    {insert_new(columns, values)};
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS workorders_scope_entries_update ON workorders_workorder;
CREATE TRIGGER workorders_scope_entries_update AFTER UPDATE ON workorders_workorder
    FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION workorders_scope_entries_update();
"""


NEW_FUNCTIONS = functions(
    COLUMNS,
    "NEW.id, x.u::bigint, NEW.status, NEW.dispatched_at, NEW.closed_at, NEW.updated_at, NEW.due_at",
    CHANGED,
)
OLD_FUNCTIONS = functions(
    COLUMNS.removesuffix(", due_at"),
    "NEW.id, x.u::bigint, NEW.status, NEW.dispatched_at, NEW.closed_at, NEW.updated_at",
    CHANGED.removesuffix(" OR OLD.due_at IS DISTINCT FROM NEW.due_at"),
)


def forward(apps, schema_editor):
    model = apps.get_model("workorders", "ScopeEntry")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(model, INDEX)
        return
    # One transaction for the new triggers and the backfill: an order saved from here on writes
    # its entries with the deadline, and none saved between the two is missed.
    with transaction.atomic(using=schema_editor.connection.alias), schema_editor.connection.cursor() as cursor:
        cursor.execute(NEW_FUNCTIONS)
        cursor.execute(
            "UPDATE workorders_scopeentry e SET due_at = w.due_at FROM workorders_workorder w"
            f" WHERE w.id = e.order_id AND e.status IN ({OPEN}) AND e.due_at IS DISTINCT FROM w.due_at"
        )
    create_index(schema_editor, model, INDEX)


def backward(apps, schema_editor):
    model = apps.get_model("workorders", "ScopeEntry")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(model, INDEX)
        return
    drop_index(schema_editor, model, INDEX)
    schema_editor.execute(OLD_FUNCTIONS)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workorders", "0011_scopeentry"),
    ]

    operations = [
        # The column first (nullable, no default: no rewrite), then the triggers, the backfill and
        # the index, which need it.
        migrations.AddField(model_name="scopeentry", name="due_at", field=models.DateTimeField(null=True)),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="scopeentry", index=INDEX)],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
