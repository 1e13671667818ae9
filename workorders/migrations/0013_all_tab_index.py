"""The 全部 tab of city-wide roles in its keyset order (dispatch time, id), newest first.

On ``dispatched_at`` alone PostgreSQL read the page's first instant whole and sorted it by id: an
import or a generated history dispatches many orders at one instant (3,498 rows sorted for a page
of 50 at 10M). The new index replaces the single-column one; it is built concurrently before the
old is dropped (``units.migration_indexes``).
"""

from django.db import migrations, models
from django.utils import timezone

from units.migration_indexes import add_index

INDEX = models.Index(fields=["dispatched_at", "id"], name="workorder_all_tab")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workorders", "0012_scope_open_tab"),
    ]

    operations = [
        add_index("workorders", "WorkOrder", INDEX),
        migrations.AlterField(
            model_name="workorder",
            name="dispatched_at",
            field=models.DateTimeField(default=timezone.now, verbose_name="派单时间"),
        ),
    ]
