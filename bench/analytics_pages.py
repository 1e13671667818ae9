"""Time the analytics pages in process as the center user (``center``/``demo12345``) on a generated
database, and print ``EXPLAIN ANALYZE`` of the dashboard's aggregate reads.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_bench_h5 REDIS_URL=redis://127.0.0.1:6379/5 \\
        DJANGO_ALLOWED_HOSTS=testserver nice -n 19 .venv/bin/python bench/analytics_pages.py --runs 10 --explain

The dashboard of the whole province, of the first generated city and of its first bureau for this
month, this quarter and this year; the red/black lists and the full station ranking of a month
(computed first when missing); the kept daily, weekly and monthly bulletins (generated first when
missing), their print view and Excel file. One untimed request each, then ``--runs`` timed ones:
p50 and p95 in milliseconds. Only databases named ``oc_bench…``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the year's aggregate reads")
    parser.add_argument("--month", default="2026-11", help="month of the red/black lists and the monthly bulletin")
    args = parser.parse_args()
    if "/oc_bench" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to a PostgreSQL database named oc_bench…")

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from analytics import services
    from analytics.models import Bulletin, Ranking
    from units.models import Unit

    client = Client()
    if not client.login(username="center", password="demo12345"):
        sys.exit("The demo user center/demo12345 is missing (bench/generate.py loads the demo).")
    city = Unit.objects.filter(tier="city").exclude(code="LJ000").order_by("code").first()
    district = Unit.objects.filter(parent=city, tier="district").order_by("code").first()
    print(f"{Unit.objects.count():,} units; city {city.code}, bureau {district.code}")
    print("| page | p50 ms | p95 ms | size |\n| --- | ---: | ---: | ---: |")

    def timed(label: str, url: str, params: dict | None = None, explain: bool = False) -> None:
        client.get(url, params)
        ms = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(url, params)
            ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{label}: HTTP {response.status_code}")
        ms.sort()
        p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
        print(f"| {label} | {statistics.median(ms):.0f} | {p95:.0f} | {len(response.content) // 1024} kB |")
        if not explain:
            return
        with CaptureQueriesContext(connection) as queries:
            client.get(url, params)
        for query in queries.captured_queries:
            if "analytics_treedayfigures" not in query["sql"]:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + query["sql"])
                print(f"    EXPLAIN ANALYZE ({label}):")
                for (line,) in cursor.fetchall():
                    print(f"      {line[:160]}")

    dashboard = reverse("analytics:dashboard")
    for period in ("month", "quarter", "year"):
        explain = args.explain and period == "year"
        timed(f"dashboard, province, {period}", dashboard, {"period": period}, explain)
        timed(f"dashboard, city {city.code}, {period}", dashboard, {"period": period, "unit": city.pk}, explain)
        timed(f"dashboard, bureau {district.code}, {period}", dashboard, {"period": period, "unit": district.pk})
    timed("dashboard, province, year, by satisfaction", dashboard, {"period": "year", "sort": "satisfaction"})

    month = dt.date.fromisoformat(f"{args.month}-01")
    for tier in services.RANKED_TIERS:
        if not Ranking.objects.filter(month=month, tier=tier, computed_at__isnull=False).exists():
            started = time.perf_counter()
            services.compute_ranking(month=month, tier=tier)
            print(f"compute_ranking {month:%Y-%m} {tier}: {(time.perf_counter() - started) * 1000:.0f} ms")
    timed(f"red/black lists, {month:%Y-%m}", reverse("analytics:rankings"), {"month": f"{month:%Y-%m}"})
    stations = Ranking.objects.get(month=month, tier="station")
    timed("full station ranking, page 1", reverse("analytics:ranking", args=[stations.pk]))
    timed("full station ranking, page 40", reverse("analytics:ranking", args=[stations.pk]), {"page": 40})

    today = timezone.localdate()
    for kind, on in (
        ("daily", today - dt.timedelta(days=1)),
        ("weekly", today - dt.timedelta(days=today.weekday() + 1)),
        ("monthly", month),
    ):
        bulletin = Bulletin.objects.filter(kind=kind, period_start=services.bulletin_period(kind, on).first).first()
        if bulletin is None:
            started = time.perf_counter()
            bulletin, _created = services.generate_bulletin(kind=kind, on=on)
            print(f"generate_bulletin {kind}: {(time.perf_counter() - started) * 1000:.0f} ms")
        timed(f"bulletin {kind}", reverse("analytics:bulletin", args=[bulletin.pk]))
        timed(f"bulletin {kind}, print", reverse("analytics:bulletin_print", args=[bulletin.pk]))
        timed(f"bulletin {kind}, Excel", reverse("analytics:bulletin_excel", args=[bulletin.pk]))


if __name__ == "__main__":
    main()
