"""pg_trgm for Chinese free-text search on appeals (PostgreSQL only; SQLite keeps a plain scan),
and the severity rank of rows stored before the column existed."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

GIN_SQL = "CREATE INDEX IF NOT EXISTS appeal_content_trgm ON intake_appeal USING gin (content gin_trgm_ops)"
GIN_DROP = "DROP INDEX IF EXISTS appeal_content_trgm"


def create_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIN_SQL)


def drop_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GIN_DROP)


def fill_rank(apps, schema_editor):
    Appeal = apps.get_model("intake", "Appeal")
    for severity, rank in {"red": 0, "orange": 1, "yellow": 2, "blue": 3}.items():
        Appeal.objects.filter(severity=severity).update(severity_rank=rank)


class Migration(migrations.Migration):
    dependencies = [("intake", "0003_attachment_idempotencyrecord_phonereveal_riskword_and_more")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_gin, drop_gin),
        migrations.RunPython(fill_rank, migrations.RunPython.noop),
    ]
