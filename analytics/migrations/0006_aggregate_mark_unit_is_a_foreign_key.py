"""``AggregateMark.unit_id`` was a plain integer standing for a unit: it becomes a real foreign key.

The column keeps its name and its rows; the state moves from the integer to the key first (no
database change), then one ALTER adds the foreign-key constraint (the queue of marks is small).
The unique (day, unit) constraint is the same columns under the field's new name.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_ranking_event_is_a_timeline_event"),
        ("units", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="aggregatemark", name="aggregate_mark_once"),
                migrations.RemoveField(model_name="aggregatemark", name="unit_id"),
                migrations.AddField(
                    model_name="aggregatemark",
                    name="unit",
                    field=models.BigIntegerField(blank=True, null=True, db_column="unit_id"),
                ),
                migrations.AddConstraint(
                    model_name="aggregatemark",
                    constraint=models.UniqueConstraint(
                        fields=("day", "unit"), name="aggregate_mark_once", nulls_distinct=False
                    ),
                ),
            ]
        ),
        migrations.AlterField(
            model_name="aggregatemark",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="units.unit",
            ),
        ),
    ]
