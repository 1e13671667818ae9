"""Benchmark: the triage desk and the appeals API, first page against a page deep in the queue.

Keyset pagination must make page 1 and page 1,000 cost the same (ARCHITECTURE rule 7). This
times, as center staff, the whole desk request (filters, counts per status, one page, template)
and the API list, at the start of the queue and at a position deep in it, and prints the medians.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_feeds_bench REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/desk_pages.py --min-appeals 200000

The database must hold appeals already: `bench/import_appeals.py` fills it (each run of that
benchmark leaves about 200,000). Nothing is written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


def median_ms(fn, *, runs: int) -> float:
    fn()  # warm the caches and the connection
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-appeals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--depth", type=int, default=50_000, help="queue position of the deep page (rows)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from rest_framework.test import APIClient

    from intake import selectors
    from intake.models import Appeal
    from units.models import User

    settings.ALLOWED_HOSTS = ["*"]
    total = Appeal.objects.count()
    if total < args.min_appeals:
        sys.exit(f"only {total} appeals in the database; run bench/import_appeals.py first")
    center = User.objects.get(username="center")

    # The deep position is found once with OFFSET (not timed), then reached by its cursor.
    ordered = Appeal.objects.order_by(*selectors.DESK_ORDER)
    deep = ordered[min(args.depth, total - 1)]
    deep_cursor = selectors.encode_cursor(deep)
    page_number = args.depth // 50 + 1

    web = Client()
    web.force_login(center)
    api = APIClient()
    api.force_authenticate(center)
    first_api = api.get("/api/v1/appeals/").json()

    def desk(cursor: str | None = None):
        params = {"status": "all"}
        if cursor:
            params["cursor"] = cursor
        response = web.get("/appeals/", params)
        assert response.status_code == 200, response.status_code
        return response

    def api_list(url: str | None = None):
        response = api.get(url or "/api/v1/appeals/")
        assert response.status_code == 200, response.status_code
        return response

    # A cursor URL of the API some pages in: walk there once (not timed).
    url = first_api.get("next")
    for _ in range(20):
        url = api_list(url).json().get("next") or url

    rows = [
        ("desk, page 1 (all statuses, counts per status, 50 rows)", median_ms(desk, runs=args.runs)),
        (f"desk, page {page_number:,} by cursor", median_ms(lambda: desk(deep_cursor), runs=args.runs)),
        (
            "status counts (one bounded count per status)",
            median_ms(lambda: selectors.status_counts(Appeal.objects.all()), runs=args.runs),
        ),
        ("API list, page 1", median_ms(api_list, runs=args.runs)),
        ("API list, page 21 by cursor", median_ms(lambda: api_list(url), runs=args.runs)),
    ]
    print(f"appeals in the database: {total:,}; median of {args.runs} runs each")
    for label, ms in rows:
        print(f"  {label:<58} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
