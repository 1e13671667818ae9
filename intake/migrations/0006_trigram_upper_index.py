"""Django's icontains on PostgreSQL compares UPPER(content::text): index that expression with
trigrams too, so free-text search on the desk is an index scan (PostgreSQL only)."""

from django.db import migrations

SQL = (
    "CREATE INDEX IF NOT EXISTS appeal_content_upper_trgm ON intake_appeal "
    "USING gin ((UPPER(content::text)) gin_trgm_ops)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS appeal_content_upper_trgm")


class Migration(migrations.Migration):
    dependencies = [("intake", "0005_desk_open_index")]

    operations = [migrations.RunPython(create, drop)]
