"""The desk's open status counts (待研判, 待派单, 办理中) under a category filter read the category's
open appeals of the status, severity and period from a partial index of open appeals (a few
percent of the table); the status index read every category's appeals of the period and
filtered them. Built concurrently (``units.migration_indexes``).
"""

from django.db import migrations, models

from units.migration_indexes import add_index

INDEX = models.Index(
    fields=["category", "status", "severity_rank", "received_at"],
    condition=models.Q(status__in=["dispatched", "new", "pending_dispatch"]),
    name="appeal_open_category",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intake", "0015_appeal_scope_open"),
    ]

    operations = [add_index("intake", "Appeal", INDEX)]
