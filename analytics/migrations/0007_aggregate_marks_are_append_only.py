"""Aggregate marks become append-only: one row per change instead of one upserted row per bucket.

Every new appeal of a day upserted the same (day, unit) row and held its lock until its commit, so
concurrent creates committed one after the other. The unique constraint and the version go; the
existing marks stay (each still names a bucket to recompute); an index on (day, unit) serves the
job's reads. The queue of marks is small (the minute job consumes it), so the ALTERs are cheap.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_aggregate_mark_unit_is_a_foreign_key"),
        ("units", "0006_saved_view_lists_without_choices"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="aggregatemark",
            index=models.Index(fields=["day", "unit"], name="aggregate_mark_bucket"),
        ),
        migrations.RemoveConstraint(
            model_name="aggregatemark",
            name="aggregate_mark_once",
        ),
        migrations.RemoveField(
            model_name="aggregatemark",
            name="version",
        ),
    ]
