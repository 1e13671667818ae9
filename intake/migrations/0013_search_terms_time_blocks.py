"""Free-text search that reads the newest matches first whatever the size of the history, and
the desk's category filter in desk order.

The bigram GIN of migration 0012 answers "which rows hold 噪音" with every such row of the whole
history: 50,000 rows at 1 million appeals, all fetched and sorted for a page of 50 (15 s).
``appeal_search_terms`` indexes the same character bigrams plus seven time tokens per row, the
hour block of ``received_at`` at seven sizes (8**level hours: an hour, 8 hours, 64 hours, 21 days,
half a year, 3.7 and 30 years). A search asks the index for the word's bigrams AND a few recent
blocks (``intake.selectors.search_window``): GIN intersects the two posting lists inside the index
(skipping through the long one), so only the matches of the window are fetched, and the window
widens eightfold until it holds a page. The tokens start with "~" and are longer than two
characters: no bigram equals one.

The function is IMMUTABLE: the hour number is taken from the epoch, which does not depend on the
session's time zone.

The search index is built CONCURRENTLY (writes go on meanwhile); the old bigram index is dropped
once the new one exists. The desk's category filter gets an index in desk order
(``appeal_category_desk_idx``), which replaces the plain index of the category foreign key.
"""

import django.db.models.deletion
from django.db import migrations, models

TERMS_FUNCTION = """
CREATE OR REPLACE FUNCTION appeal_search_terms(t text, at timestamptz) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT ARRAY(SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i)
      || ARRAY(SELECT '~' || l || ':' || (floor(extract(epoch FROM at) / 3600)::bigint >> (3 * l))
               FROM generate_series(0, 6) AS l)
$$
"""
TERMS_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS appeal_search_terms ON intake_appeal USING gin "
    "(appeal_search_terms(lower(title::text || ' ' || address::text || ' ' || content || ' ' || citizen_name::text),"
    " received_at))"
)
OLD_BIGRAMS_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS appeal_text_bigrams ON intake_appeal USING gin "
    "(appeal_bigrams(lower(title::text || ' ' || address::text || ' ' || content || ' ' || citizen_name::text)))"
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TERMS_FUNCTION)
    schema_editor.execute(TERMS_INDEX)
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appeal_text_bigrams")
    # Statistics of the new expression (how common each bigram and time block is): without them
    # the planner guesses, and may fetch a common word's whole history.
    schema_editor.execute("ANALYZE intake_appeal")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(OLD_BIGRAMS_INDEX)
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appeal_search_terms")
    schema_editor.execute("DROP FUNCTION IF EXISTS appeal_search_terms(text, timestamptz)")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("intake", "0012_phone_last4_search"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        # The desk's category filter in desk order: category, severity and the received range are
        # one index range read in the order the page wants, and the LIMIT stops the scan. It also
        # serves the PROTECT check of a category, so the plain FK index goes.
        migrations.AlterField(
            model_name="appeal",
            name="category",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="appeals",
                to="intake.category",
                verbose_name="分类",
            ),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                fields=["category", "severity_rank", "received_at", "id"], name="appeal_category_desk_idx"
            ),
        ),
    ]
