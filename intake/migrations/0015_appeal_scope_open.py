"""A unit's open appeals of a status, in desk order, read from its ``AppealScopeEntry`` rows.

The desk's open status tabs (待研判, 待派单, 办理中) and their bounded counts found a unit's
appeals through the GIN of ``scope_units`` ANDed with the status index of every unit: at 10M
appeals a station seeing 55,299 appeals, over 1,000 of them dispatched, built both bitmaps (55k
and 231k entries) for each count, 66 ms for the dispatched tab's. A btree on (unit, status, desk
order) of the open statuses' entries reads at most the page, or the count's cap, of the unit's own.

Built concurrently on PostgreSQL (no write lock on the entries of ten million appeals,
``units.migration_indexes``); elsewhere the ordinary schema operation runs.
"""

from django.db import migrations, models

from units.migration_indexes import add_index

INDEX = models.Index(
    fields=["unit", "status", "severity_rank", "received_at", "appeal"],
    condition=models.Q(status__in=["dispatched", "new", "pending_dispatch"]),
    name="appeal_scope_open",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intake", "0014_appealscopeentry"),
    ]

    operations = [add_index("intake", "AppealScopeEntry", INDEX)]
