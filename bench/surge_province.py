"""Benchmark: one surge-detector run on a large database, and what it reads.

Runs ``alerts.services.run_detectors(only=["surge"])`` at the database's present (the first run
counts the baseline's whole days once), then again 5 minutes later (a steady run), and prints the
time and statement count of each and ``EXPLAIN (ANALYZE, BUFFERS)`` of the steady run's reads, beside
the former baseline read (four weeks of appeals). Everything happens in one transaction that is
rolled back: the database is left as it was (no alert, no count, no notification kept).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_bench1m REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/surge_province.py
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")


def explain(cursor, sql: str, params=None) -> list[str]:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY ON) " + sql, params)
    return [row[0] for row in cursor.fetchall()]


def main() -> None:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from alerts import services
    from alerts.choices import Detector
    from alerts.models import CountedDay, PlaceDayCount

    now = timezone.now()
    with transaction.atomic():
        rule = services.rule_for(Detector.SURGE)
        began = time.monotonic()
        with CaptureQueriesContext(connection) as first:
            raised = services.run_detectors(now=now, only=[Detector.SURGE])
        print(
            f"first run: {time.monotonic() - began:.2f} s, {len(first)} statements, raised {raised}; "
            f"{CountedDay.objects.count()} days counted into {PlaceDayCount.objects.count()} rows"
        )
        later = now + timezone.timedelta(minutes=5)
        began = time.monotonic()
        with CaptureQueriesContext(connection) as steady:
            raised = services.run_detectors(now=later, only=[Detector.SURGE])
        print(f"steady run 5 min later: {time.monotonic() - began:.3f} s, {len(steady)} statements, raised {raised}")
        with connection.cursor() as cursor:
            for query in steady.captured_queries:
                sql = query["sql"]
                if sql.startswith("DECLARE"):  # .iterator() reads through a named cursor
                    sql = sql[sql.index(" FOR ") + 5 :]
                if not sql.startswith("SELECT") or not re.search(r'"(intake_appeal|alerts_placedaycount)"', sql):
                    continue
                print("----", re.sub(r"SELECT .*? FROM", "SELECT … FROM", sql)[:240])
                print("\n".join("    " + line for line in explain(cursor, sql)))
            window_start = later - timezone.timedelta(hours=rule.window_hours)
            print("---- the former baseline read: four weeks of appeals of the window's categories")
            former = explain(
                cursor,
                "SELECT address, category_id FROM intake_appeal WHERE merged_into_id IS NULL "
                "AND received_at > %s AND received_at <= %s AND category_id IN "
                "(SELECT DISTINCT category_id FROM intake_appeal WHERE received_at > %s)",
                [window_start - timezone.timedelta(days=rule.baseline_days), window_start, window_start],
            )
            print("\n".join("    " + line for line in former))
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
