"""Indexes of intake_appeal: each one a query needs, nothing else (ARCHITECTURE rule 15), and
Chinese free text of 2+ characters through character bigrams.

Kept, with the query that uses each:
- intake_appeal_pkey (id): every page and API item by id; keyset tie-breaks.
- intake_appeal_tracking_code_key (unique): /track/ and the desk's search by tracking code.
- appeal_unique_channel_external_id (unique, partial): a re-sent item of a feed or an import.
- appeal_external_id_idx (external_id, partial): the desk's search by source number (BitmapOr branch).
- appeal_status_desk_idx (status, severity_rank, received_at, id): every desk tab in desk order,
  its keyset pages and the bounded count per status (replaces appeal_queue_idx, whose severity
  column no query orders by, and the partial appeal_desk_open_idx, a subset of it).
- appeal_desk_idx (severity_rank, received_at, id): the desk's "全部" tab for city-wide roles.
- appeal_received_idx (received_at, id): the API list (newest first), date ranges, the similar
  appeals of the last 90 days (replaces the single-column received_at index).
- appeal_caller_idx (citizen_phone_hash, received_at): the caller look-up on the hotline form.
- appeal_content_trgm (GIN content gin_trgm_ops): similar appeals (the % operator).
- appeal_text_bigrams (GIN on appeal_bigrams(title, address, content)): desk/API free text of 2+
  characters (replaces appeal_content_upper_trgm, a second trigram GIN on the same text, and the
  title/address trigram GINs; trigrams cannot index a 2-character word).
- appeal_scope_units (GIN jsonb_path_ops): a unit user's visibility (migration 0010).
- unit_id, category_id (FK indexes): the desk's unit and category filters; PROTECT checks.
- appeal_repeat_of_idx, appeal_merged_into_idx (partial, not null): an appeal's repeats and merged
  appeals on its page; SET NULL when one is deleted. Most rows have neither.

Dropped: the FK indexes on created_by and proposed_unit (no list filters on them; users and units
are deactivated, not deleted), and tracking_code's varchar_pattern_ops copy (no LIKE on codes).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Character bigrams of a text (lower-cased by the caller), distinct; IMMUTABLE so it can be indexed.
BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION appeal_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}') FROM generate_series(1, length(t) - 1) AS i
$$
"""
BIGRAMS_INDEX = (
    "CREATE INDEX IF NOT EXISTS appeal_text_bigrams ON intake_appeal "
    "USING gin (appeal_bigrams(lower(title::text || ' ' || address::text || ' ' || content)))"
)
DROPPED = [
    "appeal_content_upper_trgm",
    "appeal_title_upper_trgm",
    "appeal_address_upper_trgm",
    "intake_appeal_tracking_code_2a187917_like",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(BIGRAMS_FUNCTION)
    schema_editor.execute(BIGRAMS_INDEX)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS appeal_text_bigrams")
    schema_editor.execute("DROP FUNCTION IF EXISTS appeal_bigrams(text)")
    for name, body in {
        "appeal_content_upper_trgm": "USING gin ((UPPER(content::text)) gin_trgm_ops)",
        "appeal_title_upper_trgm": "USING gin ((UPPER(title::text)) gin_trgm_ops)",
        "appeal_address_upper_trgm": "USING gin ((UPPER(address::text)) gin_trgm_ops)",
        "intake_appeal_tracking_code_2a187917_like": "(tracking_code varchar_pattern_ops)",
    }.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON intake_appeal {body}")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0010_appeal_scope_units"),
        ("units", "0003_login_lockout_api_tokens_nonces"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="appeal",
            name="appeal_queue_idx",
        ),
        migrations.RemoveIndex(
            model_name="appeal",
            name="appeal_desk_open_idx",
        ),
        migrations.AlterField(
            model_name="appeal",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="appeal",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="merged",
                to="intake.appeal",
                verbose_name="合并至",
            ),
        ),
        migrations.AlterField(
            model_name="appeal",
            name="proposed_unit",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="units.unit",
                verbose_name="建议承办单位",
            ),
        ),
        migrations.AlterField(
            model_name="appeal",
            name="received_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="受理时间"),
        ),
        migrations.AlterField(
            model_name="appeal",
            name="repeat_of",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="repeats",
                to="intake.appeal",
                verbose_name="重复于",
            ),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(fields=["status", "severity_rank", "received_at", "id"], name="appeal_status_desk_idx"),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(fields=["received_at", "id"], name="appeal_received_idx"),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("repeat_of__isnull", False)), fields=["repeat_of"], name="appeal_repeat_of_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="appeal_merged_into_idx",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
