"""Benchmark: what building each staff list page costs in process, beside its queries.

Django's test client, logged in as the page's role (no HTTP server, no network), requests each
list page and list endpoint ``--runs`` times after one untimed request, with DEBUG off like
production (the cached template loader, no query log). Per page it prints the wall time and the
process time (CPU of this process: Python building the page) per request, the statements and the
time spent waiting on them, the response size and the Python function calls of one request (counted
by cProfile: unlike the times, the same on a busy machine). ``--profile LABEL`` profiles that page's runs
with cProfile on a process-time clock and prints the functions that cost the most.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_bench_h4 REDIS_URL=redis://127.0.0.1:6379/4 \\
        nice -n 19 .venv/bin/python bench/page_profile.py --runs 20

The database is one ``bench/generate.py`` filled (its demo users ``center``, ``handler``,
``leader``). Rendering costs per row, not per database size: a 50,000-appeal database shows it.
Nothing is written except sessions and the cache.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.httpbench import PRODUCTION_ENV  # noqa: E402

# Production settings (DEBUG off); the keys come from the environment or .env, as for gunicorn
# in bench/pages.py.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
os.environ.update(PRODUCTION_ENV, DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost")

PAGES = [
    ("desk, handler", "handler", "/appeals/", {}),
    ("desk, handler, all statuses", "handler", "/appeals/", {"status": "all"}),
    ("desk, center, all statuses", "center", "/appeals/", {"status": "all"}),
    ("workspace to sign, handler", "handler", "/workorders/", {"tab": "to_sign"}),
    ("workspace in progress, handler", "handler", "/workorders/", {"tab": "in_progress"}),
    ("workspace closed, handler", "handler", "/workorders/", {"tab": "closed"}),
    ("workspace all, handler", "handler", "/workorders/", {"tab": "all"}),
    ("workspace to sign, leader", "leader", "/workorders/", {"tab": "to_sign"}),
    ("workspace all, center", "center", "/workorders/", {"tab": "all"}),
    ("review list, center", "center", "/workorders/review/", {}),
    ("callback desk, center", "center", "/surveys/callbacks/", {}),
    ("service records, center", "center", "/surveys/records/", {}),
    ("SMS outbox, center", "center", "/sms/outbox/", {}),
    ("evaluation overview, center", "center", "/surveys/", {}),
    ("home, handler", "handler", "/", {}),
    ("home, center", "center", "/", {}),
    ("API appeals, handler", "handler", "/api/v1/appeals/", {}),
    ("API appeals, center", "center", "/api/v1/appeals/", {}),
    ("API work orders, handler", "handler", "/api/v1/work-orders/", {}),
    ("API work orders, center", "center", "/api/v1/work-orders/", {}),
    ("API callbacks, center", "center", "/api/v1/callbacks/", {}),
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class QueryClock:
    """Counts the statements of a request and the wall time spent waiting on them."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            self.seconds += took
            self.count += 1
            self.statements.append((took * 1000, sql))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="substrings of the page labels, separated by |")
    parser.add_argument("--profile", default="", help="profile the pages whose label contains this")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--statements", action="store_true", help="print each statement of the last run")
    parser.add_argument("--json", default="", help="write the figures to this file")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from units.models import User

    clients = {}
    for role in ("center", "handler", "leader"):
        client = Client()
        client.force_login(User.objects.get(username=role))
        clients[role] = client

    wanted = [s.strip() for s in args.only.split("|") if s.strip()]
    figures = []
    print(
        f"{'page':40} {'status':>6} {'wall p50':>9} {'p95':>7} {'cpu p50':>8} {'min':>6} {'sql':>4} {'sql ms':>7} {'KB':>6} {'calls':>7}"
    )
    for label, role, path, params in PAGES:
        if wanted and not any(w in label for w in wanted):
            continue
        client = clients[role]
        response = client.get(path, params)  # untimed: warms the template cache and the connection
        walls, cpus, sql_ms, counts = [], [], [], []
        profiler = cProfile.Profile(time.process_time) if args.profile and args.profile in label else None
        for _ in range(args.runs):
            clock = QueryClock()
            with connection.execute_wrapper(clock):
                wall, cpu = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                response = client.get(path, params)
                if profiler:
                    profiler.disable()
                cpus.append((time.process_time() - cpu) * 1000)
                walls.append((time.perf_counter() - wall) * 1000)
            sql_ms.append(clock.seconds * 1000)
            counts.append(clock.count)
        counter = cProfile.Profile()  # one more request, to count the Python calls it makes
        counter.runcall(client.get, path, params)
        calls = pstats.Stats(counter).total_calls
        row = {
            "page": label,
            "status": response.status_code,
            "wall_p50_ms": round(percentile(walls, 50), 1),
            "wall_p95_ms": round(percentile(walls, 95), 1),
            "cpu_p50_ms": round(percentile(cpus, 50), 1),
            "cpu_min_ms": round(min(cpus), 1),
            "statements": max(counts),
            "sql_p50_ms": round(percentile(sql_ms, 50), 1),
            "kb": round(len(response.content) / 1024, 1),
            "python_calls": calls,
        }
        figures.append(row)
        print(
            f"{label:40} {row['status']:>6} {row['wall_p50_ms']:>9} {row['wall_p95_ms']:>7} {row['cpu_p50_ms']:>8} {row['cpu_min_ms']:>6}"
            f" {row['statements']:>4} {row['sql_p50_ms']:>7} {row['kb']:>6} {row['python_calls']:>7}",
            flush=True,
        )
        if args.statements:
            for took, sql in clock.statements:
                print(f"    {took:7.1f} ms  {sql[:160]}")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
