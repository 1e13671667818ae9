"""即将到期 (due soon) of city-wide roles and its count read the orders whose 80 % reminder has
gone and whose deadline has not, from a partial index of exactly those (by deadline, id): through
the status index every open order not yet due was read and filtered (30,357 rows for a count of 0
at 10M). Built concurrently (``units.migration_indexes``).
"""

from django.db import migrations, models

from units.migration_indexes import add_index
from workorders.choices import WITH_UNIT, UrgeStage

INDEX = models.Index(
    fields=["due_at", "id"],
    condition=models.Q(status__in=sorted(WITH_UNIT), is_overdue=False, urge_stage__gte=UrgeStage.EIGHTY),
    name="workorder_due_soon",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workorders", "0013_all_tab_index"),
    ]

    operations = [add_index("workorders", "WorkOrder", INDEX)]
