"""The growing work lists of a unit (已办结, 已退单, 全部, the API list), as the product builds them
and as they were built through the GIN index of ``scope_units``: ``EXPLAIN (ANALYZE, BUFFERS)`` of
the first page and of page 13 for each user, with the rows each plan read and whether it sorted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_bench_h9 REDIS_URL=redis://127.0.0.1:6379/9 \\
        nice -n 19 .venv/bin/python bench/unit_lists_explain.py [--units 8,9] [--runs 5] [--plans]

Users: the demo's handler, leader and center staff, plus an unsaved unit leader of each unit of
``--units`` (a district sees its stations' orders). Read-only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


def explain(qs) -> dict:
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return plan[0]


def nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def summary(plan: dict) -> dict:
    """Rows the scans fetched (returned plus filtered out, times loops), sorts, buffers, time."""
    top = plan["Plan"]
    read = 0
    sorted_rows = 0
    for n in nodes(top):
        if "Scan" in n["Node Type"] and n["Node Type"] != "Bitmap Index Scan":
            read += (n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n.get("Actual Loops", 1)
        if n["Node Type"] == "Bitmap Index Scan":
            read += 0  # its rows are fetched by the heap scan above it
        if "Sort" in n["Node Type"]:
            sorted_rows = max(sorted_rows, n["Plans"][0]["Actual Rows"] * n["Plans"][0].get("Actual Loops", 1))
    return {
        "read": read,
        "sorted": sorted_rows,
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "ms": plan["Execution Time"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", default="", help="comma-separated unit ids: an unsaved leader of each")
    parser.add_argument("--runs", type=int, default=5, help="EXPLAIN ANALYZE runs per query (median shown)")
    parser.add_argument("--plans", action="store_true", help="print each plan's nodes")
    args = parser.parse_args()

    import django

    django.setup()
    from units.choices import Role
    from units.models import Unit, User
    from workorders import selectors

    users = [User.objects.get(username=name) for name in ("handler", "leader", "center")]
    for pk in filter(None, args.units.split(",")):
        unit = Unit.objects.get(pk=int(pk))
        users.append(User(username=f"leader of {unit.name}", role=Role.UNIT_LEADER, unit=unit))

    print(
        "| user | list | page | before: rows read / sorted / buffers / ms | after: rows read / sorted / buffers / ms |"
    )
    print("| --- | --- | --- | --- | --- |")
    for user in users:
        lists = {}
        for tab in selectors.ENTRY_TABS:
            before = selectors.orders_for(user).filter(selectors.tab_filter(tab))
            after, ordering = selectors.tab_orders(user, tab)
            lists[f"tab {tab}"] = (
                (selectors.list_rows(before), selectors.TAB_ORDERING[tab]),
                (selectors.list_rows(after), ordering),
            )
        from workorders.models import WorkOrder

        api_before = WorkOrder.objects.visible_to(user).select_related("unit", "appeal")
        seen = selectors.seen_in_order(user, "dispatched_at")
        api_after = (seen.select_related("unit", "appeal"), selectors.ENTRY_ORDERING) if seen is not None else None
        lists["api work-orders"] = (
            (api_before, ("-dispatched_at", "-id")),
            api_after or (api_before, ("-dispatched_at", "-id")),
        )
        for label, variants in lists.items():
            for page in ("first", "13th"):
                cells = []
                for qs, ordering in variants:
                    ordered = qs.order_by(*ordering)
                    if page == "13th":
                        rows = list(ordered[599:600])
                        if not rows:
                            cells.append("(fewer than 600 rows)")
                            continue
                        ordered = selectors.after_cursor(ordered, ordering, selectors.cursor_of(rows[0], ordering))
                        ordered = ordered.order_by(*ordering)
                    runs = [summary(explain(ordered[:51])) for _ in range(args.runs)]
                    last = runs[-1]
                    ms = statistics.median(r["ms"] for r in runs)
                    cells.append(f"{last['read']:,} / {last['sorted']:,} / {last['buffers']:,} / {ms:.2f}")
                    if args.plans:
                        for n in nodes(explain(ordered[:51])["Plan"]):
                            print(
                                "   ", n["Node Type"], n.get("Index Name", n.get("Relation Name", "")), n["Actual Rows"]
                            )
                print(f"| {user.username} | {label} | {page} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
