"""Each unit that sees an order, in a narrow table ordered for the growing lists.

The 已办结, 已退单 and 全部 tabs of a unit (and the API list of a unit's orders) found the unit's
orders through the GIN index on ``scope_units`` and sorted them: a station read its whole closed
history (5,504 orders at 1M) to show 50 rows, a district eight stations' worth. A GIN cannot give
order; ``workorders_scopeentry`` holds one row per (order, unit in its ``scope_units``) with the
order's status and sort timestamps, and a btree per list on (unit, timestamp desc, order desc)
reads a page.

On PostgreSQL the rows are written by row-level triggers on ``workorders_workorder``, so no code
path that changes an order can leave them behind; an update's trigger fires only when the scope,
the status or a sort timestamp changed (its WHEN clause, evaluated without a function call).
Statement-level triggers with transition tables were tried first: joining the old and new rows to
find the changed ones cost 0.6 s for an UPDATE of 1,000 orders that changed none of them.

The steps, none holding a lock on the order table for long: the triggers first (writes are
mirrored from then on), then the backfill (one INSERT … SELECT, ``ON CONFLICT DO NOTHING`` beside
the triggers), then the rows of the orders saved while it ran written again (a save that raced the
backfill's snapshot may have kept its older rows), then the list indexes, built concurrently.
Elsewhere (SQLite, the demo) only the table is created: its lists evaluate the rule directly.
"""

from units.migration_indexes import create_index
from django.db import migrations, models

# The columns as this migration created them (0012 adds ``due_at``).
SCOPE_ENTRY_COLUMNS = "order_id, unit_id, status, dispatched_at, closed_at, updated_at"


def scope_entries_sql(source: str, where: str = "true") -> str:
    return (
        f"INSERT INTO workorders_scopeentry ({SCOPE_ENTRY_COLUMNS})"
        " SELECT w.id, x.u::bigint, w.status, w.dispatched_at, w.closed_at, w.updated_at"
        f" FROM {source} w, jsonb_array_elements_text(w.scope_units) x(u) WHERE {where}"
        " ON CONFLICT DO NOTHING"
    )


LIST_INDEXES = [
    models.Index(fields=["unit", "-closed_at", "-order"], condition=models.Q(status="closed"), name="scope_closed_tab"),
    models.Index(
        fields=["unit", "-updated_at", "-order"], condition=models.Q(status="handed_back"), name="scope_handed_back_tab"
    ),
    models.Index(fields=["unit", "-dispatched_at", "-order"], name="scope_all_tab"),
]

# A row-level trigger's WHEN is evaluated without calling its function: an update that changes none
# of these (the urge job's, a note) costs the order table nothing more.
CHANGED = (
    "OLD.scope_units IS DISTINCT FROM NEW.scope_units OR OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.dispatched_at IS DISTINCT FROM NEW.dispatched_at OR OLD.closed_at IS DISTINCT FROM NEW.closed_at"
    " OR OLD.updated_at IS DISTINCT FROM NEW.updated_at"
)
INSERT_NEW = (
    f"INSERT INTO workorders_scopeentry ({SCOPE_ENTRY_COLUMNS})"
    " SELECT NEW.id, x.u::bigint, NEW.status, NEW.dispatched_at, NEW.closed_at, NEW.updated_at"
    " FROM jsonb_array_elements_text(NEW.scope_units) x(u) ON CONFLICT DO NOTHING"
)

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION workorders_scope_entries_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {INSERT_NEW};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION workorders_scope_entries_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An order with an empty scope has no rows (a new order's scope is filled by an UPDATE): no
    -- DELETE, whose cached plan on a table without statistics yet could be a sequential scan.
    IF OLD.scope_units <> '[]'::jsonb THEN
        DELETE FROM workorders_scopeentry WHERE order_id = OLD.id;
    END IF;
    {INSERT_NEW};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION workorders_scope_entries_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM workorders_scopeentry WHERE order_id = OLD.id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS workorders_scope_entries_insert ON workorders_workorder;
CREATE TRIGGER workorders_scope_entries_insert AFTER INSERT ON workorders_workorder
    FOR EACH ROW WHEN (NEW.scope_units <> '[]'::jsonb) EXECUTE FUNCTION workorders_scope_entries_insert();
DROP TRIGGER IF EXISTS workorders_scope_entries_update ON workorders_workorder;
CREATE TRIGGER workorders_scope_entries_update AFTER UPDATE ON workorders_workorder
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION workorders_scope_entries_update();
DROP TRIGGER IF EXISTS workorders_scope_entries_delete ON workorders_workorder;
CREATE TRIGGER workorders_scope_entries_delete AFTER DELETE ON workorders_workorder
    FOR EACH ROW EXECUTE FUNCTION workorders_scope_entries_delete();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS workorders_scope_entries_insert ON workorders_workorder;
DROP TRIGGER IF EXISTS workorders_scope_entries_update ON workorders_workorder;
DROP TRIGGER IF EXISTS workorders_scope_entries_delete ON workorders_workorder;
DROP FUNCTION IF EXISTS workorders_scope_entries_insert();
DROP FUNCTION IF EXISTS workorders_scope_entries_update();
DROP FUNCTION IF EXISTS workorders_scope_entries_delete();
"""


def forward(apps, schema_editor):
    model = apps.get_model("workorders", "ScopeEntry")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.create_model(model)
        return
    # The table without its list indexes (the backfill is faster without them), then as above.
    meta_indexes = model._meta.indexes
    model._meta.indexes = []
    try:
        schema_editor.create_model(model)
    finally:
        model._meta.indexes = meta_indexes
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        started = cursor.fetchone()[0]
    schema_editor.execute(TRIGGERS)
    schema_editor.execute(scope_entries_sql("workorders_workorder"))
    saved_since = "w.updated_at >= %s"
    schema_editor.execute(
        "DELETE FROM workorders_scopeentry WHERE order_id IN"
        f" (SELECT w.id FROM workorders_workorder w WHERE {saved_since})",
        [started],
    )
    schema_editor.execute(scope_entries_sql("workorders_workorder", saved_since), [started])
    for index in LIST_INDEXES:
        create_index(schema_editor, model, index, analyze=False)
    schema_editor.execute("ANALYZE workorders_scopeentry")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS)
    schema_editor.delete_model(apps.get_model("workorders", "ScopeEntry"))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("units", "0006_saved_view_lists_without_choices"),
        ("workorders", "0010_scope_open_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ScopeEntry",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "order", "unit", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("dispatched", "待签收"),
                                    ("signed", "已签收"),
                                    ("in_progress", "办理中"),
                                    ("feedback_submitted", "待审核"),
                                    ("returned", "退回重办"),
                                    ("approved", "审核通过"),
                                    ("closed", "已办结"),
                                    ("handed_back", "已退单"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("dispatched_at", models.DateTimeField()),
                        ("closed_at", models.DateTimeField(null=True)),
                        ("updated_at", models.DateTimeField()),
                        (
                            "order",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=models.deletion.CASCADE,
                                related_name="scope_entries",
                                to="workorders.workorder",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=models.deletion.DO_NOTHING,
                                related_name="+",
                                to="units.unit",
                            ),
                        ),
                    ],
                    options={"indexes": LIST_INDEXES},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forward, backward),
    ]
