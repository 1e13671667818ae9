"""The evaluation overview's per-unit table of 30 days reads the unit-day rows that hold a rating,
index only: ``unit_day_figures_rated`` (day, with the unit and the four verdict counts), partial on
those rows. Built concurrently (``units.migration_indexes``)."""

from django.db import migrations, models

from units.migration_indexes import add_index

INDEX = models.Index(
    fields=["day"],
    include=["unit", "satisfied", "basic", "dissatisfied", "declined"],
    condition=models.Q(satisfied__gt=0)
    | models.Q(basic__gt=0)
    | models.Q(dissatisfied__gt=0)
    | models.Q(declined__gt=0),
    name="unit_day_figures_rated",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("analytics", "0010_ranking_entries_one_index_by_ranking"),
    ]

    operations = [add_index("analytics", "UnitDayFigures", INDEX)]
