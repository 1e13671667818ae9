"""Indexes on tables of millions of rows, added by migrations without blocking writes.

On PostgreSQL an index is built ``CONCURRENTLY`` (writes go on meanwhile; a migration doing so
sets ``atomic = False``) and ``IF NOT EXISTS`` (a run interrupted after the build is run again),
then the table is analysed so the planner knows the new index's rows at once. Elsewhere (SQLite,
``make run``) the ordinary schema operation runs.
"""

from __future__ import annotations

from django.db import migrations, models


def create_index(schema_editor, model, index: models.Index, *, analyze: bool = True) -> None:
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(model, index)
        return
    create = str(index.create_sql(model, schema_editor, concurrently=True))
    schema_editor.execute(create.replace("CREATE INDEX CONCURRENTLY", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1))
    if analyze:
        schema_editor.execute(f"ANALYZE {schema_editor.quote_name(model._meta.db_table)}")


def drop_index(schema_editor, model, index: models.Index) -> None:
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(model, index)
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(index.name)}")


def add_index(app_label: str, model_name: str, index: models.Index) -> migrations.SeparateDatabaseAndState:
    """The migration operation adding ``index`` to the model as above (in a non-atomic migration)."""

    def forward(apps, schema_editor):
        create_index(schema_editor, apps.get_model(app_label, model_name), index)

    def backward(apps, schema_editor):
        drop_index(schema_editor, apps.get_model(app_label, model_name), index)

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AddIndex(model_name=model_name.lower(), index=index)],
        database_operations=[migrations.RunPython(forward, backward)],
    )
