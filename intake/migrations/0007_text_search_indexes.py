"""The desk's free text matches content, title, address, tracking code or external id with OR:
every branch needs an index for PostgreSQL to combine them (BitmapOr) instead of scanning."""

from django.db import migrations

INDEXES = {
    "appeal_title_upper_trgm": "USING gin ((UPPER(title::text)) gin_trgm_ops)",
    "appeal_address_upper_trgm": "USING gin ((UPPER(address::text)) gin_trgm_ops)",
    "appeal_external_id_idx": "(external_id) WHERE external_id IS NOT NULL",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, body in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON intake_appeal {body}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("intake", "0006_trigram_upper_index")]

    operations = [migrations.RunPython(create, drop)]
