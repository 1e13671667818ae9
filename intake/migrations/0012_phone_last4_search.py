"""Finding a caller on the desk and in the API: by the last four digits of the number (a stored
column, filled from the decrypted number in batches, indexed in desk order) and by name (the
caller's name joins the character-bigram index of the free-text search)."""

from django.db import migrations, models

# The bigram index of migration 0011 with the caller's name added (filters.BIGRAMS_SQL).
BIGRAMS_INDEX = (
    "CREATE INDEX IF NOT EXISTS appeal_text_bigrams ON intake_appeal USING gin "
    "(appeal_bigrams(lower(title::text || ' ' || address::text || ' ' || content || ' ' || citizen_name::text)))"
)
OLD_BIGRAMS_INDEX = (
    "CREATE INDEX IF NOT EXISTS appeal_text_bigrams ON intake_appeal "
    "USING gin (appeal_bigrams(lower(title::text || ' ' || address::text || ' ' || content)))"
)
BATCH = 2000


def backfill_last4(apps, schema_editor):
    """Set-wise per batch: read ids and numbers (decrypted by the field), write one UPDATE … FROM
    (VALUES …) per batch of rows that have a number."""
    from intake.phones import phone_last4

    Appeal = apps.get_model("intake", "Appeal")
    db = schema_editor.connection.alias if schema_editor else "default"
    last = 0
    while True:
        rows = list(
            Appeal.objects.using(db)
            .filter(pk__gt=last)
            .exclude(citizen_phone="")
            .order_by("pk")
            .values_list("pk", "citizen_phone")[:BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        values = [(pk, phone_last4(phone)) for pk, phone in rows]
        values = [(pk, digits) for pk, digits in values if digits]
        if not values:
            continue
        from django.db import connections

        with connections[db].cursor() as cursor:
            placeholders = ", ".join(["(%s, %s)"] * len(values))
            params = [x for pair in values for x in pair]
            cursor.execute(
                f"UPDATE intake_appeal a SET citizen_phone_last4 = v.d FROM (VALUES {placeholders}) AS v(id, d) "
                "WHERE a.id = v.id::bigint AND a.citizen_phone_last4 IS DISTINCT FROM v.d",
                params,
            )


def forward_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS appeal_text_bigrams")
    schema_editor.execute(BIGRAMS_INDEX)


def backward_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS appeal_text_bigrams")
    schema_editor.execute(OLD_BIGRAMS_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0011_prune_indexes_bigram_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="citizen_phone_last4",
            field=models.CharField(blank=True, db_default="", default="", editable=False, max_length=4),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                fields=["citizen_phone_last4", "severity_rank", "received_at", "id"], name="appeal_last4_desk_idx"
            ),
        ),
        migrations.RunPython(backfill_last4, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(forward_index, backward_index),
    ]
