"""Each unit that sees an appeal, in a narrow table ordered for the lists that grow with history.

A unit user's appeals were found through the GIN index on ``scope_units``, which cannot give them
in order: the desk's 全部 and 已办结 of a station (desk order) and the API list of its appeals
(newest first) read and sorted the station's whole history to show 50 rows (5,688 appeals at 1M,
~57,000 at 10M), a district's eight stations' worth. ``intake_appealscopeentry`` holds one row
per (appeal, unit in its ``scope_units``) with the appeal's status and sort keys, and a btree per
order leading with the unit reads a page.

On PostgreSQL the rows are written by row-level triggers on ``intake_appeal``, so no code path
that changes an appeal can leave them behind (``refresh_scope`` is a bare UPDATE); an update's
trigger fires only when the scope, the status, the severity rank or the received time changed
(its WHEN clause, evaluated without a function call): a note or a reply costs nothing more.

The steps, none holding a lock on the appeal table for long: a log of the appeals changed or
deleted while the backfill runs, and the triggers (writes are mirrored from then on); the backfill
(one INSERT … SELECT, ``ON CONFLICT DO NOTHING`` beside the triggers); the rows of the logged
appeals written again (a save or a delete that raced the backfill's snapshot may have left the
backfill's older rows) and the log dropped; the list indexes, built concurrently; ANALYZE.
Elsewhere (SQLite, the demo) only the table is created: its lists evaluate the rule directly.

The SQL is this migration's own: a later change of the model must not change what it ran.
"""

from units.migration_indexes import create_index
from django.db import migrations, models, transaction

COLUMNS = "appeal_id, unit_id, status, severity_rank, received_at"


def entries_sql(source: str, where: str = "true") -> str:
    return (
        f"INSERT INTO intake_appealscopeentry ({COLUMNS})"
        " SELECT a.id, x.u::bigint, a.status, a.severity_rank, a.received_at"
        f" FROM {source} a, jsonb_array_elements_text(a.scope_units) x(u) WHERE {where}"
        " ON CONFLICT DO NOTHING"
    )


LIST_INDEXES = [
    models.Index(fields=["unit", "severity_rank", "received_at", "appeal"], name="appeal_scope_desk"),
    models.Index(fields=["unit", "-received_at", "-appeal"], name="appeal_scope_newest"),
]

CHANGED = (
    "OLD.scope_units IS DISTINCT FROM NEW.scope_units OR OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.severity_rank IS DISTINCT FROM NEW.severity_rank OR OLD.received_at IS DISTINCT FROM NEW.received_at"
)
INSERT_NEW = (
    f"INSERT INTO intake_appealscopeentry ({COLUMNS})"
    " SELECT NEW.id, x.u::bigint, NEW.status, NEW.severity_rank, NEW.received_at"
    " FROM jsonb_array_elements_text(NEW.scope_units) x(u) ON CONFLICT DO NOTHING"
)

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION intake_appeal_scope_entries_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {INSERT_NEW};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION intake_appeal_scope_entries_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An appeal with an empty scope has no rows (a new appeal's scope is filled by an UPDATE on
    -- dispatch): no DELETE, whose cached plan on a table without statistics could be a scan.
    IF OLD.scope_units <> '[]'::jsonb THEN
        DELETE FROM intake_appealscopeentry WHERE appeal_id = OLD.id;
    END IF;
    {INSERT_NEW};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION intake_appeal_scope_entries_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM intake_appealscopeentry WHERE appeal_id = OLD.id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS intake_appeal_scope_entries_insert ON intake_appeal;
CREATE TRIGGER intake_appeal_scope_entries_insert AFTER INSERT ON intake_appeal
    FOR EACH ROW WHEN (NEW.scope_units <> '[]'::jsonb) EXECUTE FUNCTION intake_appeal_scope_entries_insert();
DROP TRIGGER IF EXISTS intake_appeal_scope_entries_update ON intake_appeal;
CREATE TRIGGER intake_appeal_scope_entries_update AFTER UPDATE ON intake_appeal
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION intake_appeal_scope_entries_update();
DROP TRIGGER IF EXISTS intake_appeal_scope_entries_delete ON intake_appeal;
CREATE TRIGGER intake_appeal_scope_entries_delete AFTER DELETE ON intake_appeal
    FOR EACH ROW WHEN (OLD.scope_units <> '[]'::jsonb) EXECUTE FUNCTION intake_appeal_scope_entries_delete();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS intake_appeal_scope_entries_insert ON intake_appeal;
DROP TRIGGER IF EXISTS intake_appeal_scope_entries_update ON intake_appeal;
DROP TRIGGER IF EXISTS intake_appeal_scope_entries_delete ON intake_appeal;
DROP FUNCTION IF EXISTS intake_appeal_scope_entries_insert();
DROP FUNCTION IF EXISTS intake_appeal_scope_entries_update();
DROP FUNCTION IF EXISTS intake_appeal_scope_entries_delete();
"""

# The appeals changed (as the update trigger's WHEN says) or deleted while the backfill runs: the
# backfill's snapshot may predate such a change, and its older rows would then stay.
LOG = "intake_appealscopeentry_backfill"
START_LOG = f"""
DROP TABLE IF EXISTS {LOG};
CREATE UNLOGGED TABLE {LOG} (appeal_id bigint NOT NULL);
CREATE OR REPLACE FUNCTION {LOG}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {LOG} VALUES (OLD.id);
    RETURN NULL;
END $$;
CREATE TRIGGER {LOG}_update AFTER UPDATE ON intake_appeal
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION {LOG}();
CREATE TRIGGER {LOG}_delete AFTER DELETE ON intake_appeal
    FOR EACH ROW EXECUTE FUNCTION {LOG}();
"""
STOP_LOG = f"""
DROP TRIGGER IF EXISTS {LOG}_update ON intake_appeal;
DROP TRIGGER IF EXISTS {LOG}_delete ON intake_appeal;
DROP FUNCTION IF EXISTS {LOG}();
DROP TABLE IF EXISTS {LOG};
"""


def forward(apps, schema_editor):
    model = apps.get_model("intake", "AppealScopeEntry")
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
    schema_editor.execute(START_LOG)
    schema_editor.execute(TRIGGERS)
    schema_editor.execute(entries_sql("intake_appeal"))
    schema_editor.execute("ANALYZE intake_appealscopeentry")  # the rewrite below looks rows up by appeal
    # One transaction for the rewrite: an appeal saved in between finds its rows either before
    # the DELETE (waited for, then kept) or after it (the INSERT then conflicts with them).
    with transaction.atomic(using=schema_editor.connection.alias), schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM intake_appealscopeentry WHERE appeal_id IN (SELECT appeal_id FROM {LOG})")
        cursor.execute(entries_sql("intake_appeal", f"a.id IN (SELECT appeal_id FROM {LOG})"))
        cursor.execute(STOP_LOG)
    for index in LIST_INDEXES:
        create_index(schema_editor, model, index, analyze=False)
    schema_editor.execute("ANALYZE intake_appealscopeentry")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STOP_LOG)
        schema_editor.execute(DROP_TRIGGERS)
    schema_editor.delete_model(apps.get_model("intake", "AppealScopeEntry"))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intake", "0013_search_terms_time_blocks"),
        ("units", "0006_saved_view_lists_without_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AppealScopeEntry",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "appeal", "unit", blank=True, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("new", "待研判"),
                                    ("pending_dispatch", "待派单"),
                                    ("dispatched", "办理中"),
                                    ("closed", "已办结"),
                                    ("merged", "已合并"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("severity_rank", models.PositiveSmallIntegerField()),
                        ("received_at", models.DateTimeField()),
                        (
                            "appeal",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=models.deletion.CASCADE,
                                related_name="scope_entries",
                                to="intake.appeal",
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
