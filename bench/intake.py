"""Benchmark: the feed push and the staff create against a bare JSON view, same gunicorn, same run.

Starts gunicorn (the project's gunicorn.conf.py, 2 sync workers, 127.0.0.1 only, DEBUG off) with
``bench/bare_wsgi.py`` — the project's application plus ``/bare/``, a minimal Django
``JsonResponse`` — and drives, one after the other for ``--seconds`` each with ``--connections``
threads: ``GET /bare/``, the 12345 feed push ``POST /api/v1/feeds/12345/appeals/`` (the demo key,
a new external id and a fake phone each time) and the staff create ``POST /api/v1/appeals/`` (an
API token of center staff). Prints req/s, p50/p99 and each write's ratio to the bare view, and
the resident memory (VmRSS, sampled every 100 ms) of each gunicorn worker: the peak over each kind
of request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_h3 REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/intake.py --connections 8 --seconds 20

It writes appeals, so it refuses the shared ``oc_bench…`` databases that ``bench/pages.py`` reads.

``--profile RUNS`` measures instead, in this one process and without any server, the CPU each
kind of request costs: the same WSGI application called directly with the same requests (DEBUG
off, the development keys the demo and the generator encrypt phones with), ``RUNS`` of each after
one untimed request, printing CPU (process time) and wall time per request, the statements run and
the time spent waiting on them; ``--top N`` adds the N functions that cost the most CPU in the
push and in the staff create (cProfile on a process-time clock):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_h3 REDIS_URL=redis://127.0.0.1:6379/3 \\
        nice -n 19 .venv/bin/python bench/intake.py --profile 300 --top 25

gunicorn runs with as many sync workers as the product ships (``opinion_center/gunicorn.conf.py``:
two per core) unless ``--workers`` says otherwise.

The appeals it creates stay in the database (external ids ``BENCH-PUSH-…``). By default the
per-source feed throttle is raised inside the benchmark's gunicorn so the write path itself is
measured; ``--shipped-throttle`` keeps the shipped rate and counts the refusals (429) apart.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import multiprocessing
import os
import random
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

from bench.httpbench import (  # noqa: E402
    PRODUCTION_ENV,
    database_url,
    machine_load,
    percentile,
    refuse_shared_database,
    serve,
    vm_rss_mb,
)

TEXTS = [
    "{place}附近的烧烤店营业到凌晨，噪音很大，严重影响休息。",
    "{place}门口每天有车辆乱停乱放，堵住消防通道，希望交警管一管。",
    "在{place}派出所补办身份证已经三周，还没有通知领取。",
    "{place}夜间有人聚集喝酒，担心治安，希望加强巡逻。",
]
PLACES = ["滨江路", "北湖路", "南门街", "新华路", "科技园路", "人民路"]


def drive(call, *, connections: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n):
        session = requests.Session()
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            try:
                status = call(session).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status in (200, 201):
                    latencies.append(elapsed)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return {
        "ok_per_s": len(latencies) / wall,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "statuses": statuses,
    }


def gunicorn_workers(port: int) -> list[int]:
    """The pids of the gunicorn workers serving 127.0.0.1:``port`` (children of its master)."""
    bind = f"GUNICORN_BIND=127.0.0.1:{port}".encode()
    processes: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if b"gunicorn" not in fh.read():
                    continue
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if bind not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat") as fh:
                processes[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
    return [pid for pid, parent in processes.items() if parent in processes]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


@contextlib.contextmanager
def worker_rss(port: int):
    """{worker pid: peak VmRSS in MB} while the block runs, sampled every 100 ms; under the key
    "cpu", the CPU seconds the workers used meanwhile (a figure the machine's load does not
    inflate the way it inflates wall time)."""
    peaks: dict = {}
    done = threading.Event()
    workers = gunicorn_workers(port)
    cpu_before = {pid: cpu_seconds(pid) for pid in workers}

    def sample():
        while True:
            for pid in gunicorn_workers(port):
                peaks[pid] = max(peaks.get(pid, 0.0), vm_rss_mb(pid))
            if done.wait(0.1):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        done.set()
        thread.join()
        peaks["cpu"] = sum(cpu_seconds(pid) - before for pid, before in cpu_before.items())


# The keys the development settings derive from their fixed secret: the demo and bench/generate.py
# encrypt and hash phones with them, and DEBUG off refuses to start without keys.
_DEV_SECRET = "dev-only-insecure-secret-key-change-me"


def production_settings() -> None:
    """DEBUG off (no query log, as gunicorn runs) with the development keys, before Django starts."""
    import base64
    import hashlib

    os.environ.update(PRODUCTION_ENV, DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_SECRET_KEY", _DEV_SECRET)
    os.environ.setdefault(
        "PHONE_ENCRYPTION_KEYS",
        base64.urlsafe_b64encode(hashlib.sha256(("enc" + _DEV_SECRET).encode()).digest()).decode(),
    )
    os.environ.setdefault("PHONE_HASH_KEY", hashlib.sha256(("hash" + _DEV_SECRET).encode()).hexdigest())


def wsgi_call(application, method: str, path: str, *, body: dict | None = None, headers: dict | None = None):
    """Call a WSGI application as gunicorn would: (status code, response bytes)."""
    import io
    import json

    raw = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8714",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8714",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body is not None:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(raw))
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answered = {}

    def start_response(status, response_headers, exc_info=None):
        answered["status"] = int(status.split()[0])

    chunks = application(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answered["status"], content


class QueryClock:
    """Counts the statements of a request and the wall time spent waiting on them."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


def profile_in_process(
    kinds: dict, *, runs: int, top: int, show_sql: bool = False, sort: str = "tottime", restrict: str = ""
) -> None:
    """Each kind of request ``runs`` times in this process: CPU and wall per request, statements."""
    import cProfile
    import io
    import pstats

    from django.db import connection

    for label, call in kinds.items():
        status, content = call()  # untimed: imports, connection, per-process caches
        if status >= 300:
            raise SystemExit(f"{label}: answered {status}: {content[:300]!r}")
        cpus, walls, statements, waits = [], [], [], []
        for _ in range(runs):
            clock = QueryClock()
            with connection.execute_wrapper(clock):
                wall, cpu = time.perf_counter(), time.process_time()
                status, content = call()
                cpus.append((time.process_time() - cpu) * 1000)
                walls.append((time.perf_counter() - wall) * 1000)
            if status >= 300:
                raise SystemExit(f"{label}: answered {status}: {content[:300]!r}")
            statements.append(clock.count)
            waits.append(clock.seconds * 1000)
        print(
            f"  {label:<48} CPU p50 {percentile(cpus, 50):6.2f} ms  mean {sum(cpus) / runs:6.2f} ms   "
            f"wall p50 {percentile(walls, 50):6.2f} ms   statements {max(statements)}  "
            f"waiting on them {sum(waits) / runs:5.2f} ms   body {len(content)} bytes",
            flush=True,
        )
        if show_sql:

            def shown(execute, sql, params, many, context):
                print("    ", sql[:240])
                return execute(sql, params, many, context)

            with connection.execute_wrapper(shown):
                call()
        if top and "bare" not in label:
            # A second pass under the profiler: its own cost would inflate the figures above.
            profiler = cProfile.Profile(time.process_time)
            for _ in range(runs):
                profiler.enable()
                call()
                profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats(sort).print_stats(*([restrict] if restrict else []), top)
            print(out.getvalue(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="per kind of request")
    parser.add_argument("--port", type=int, default=8714)
    parser.add_argument("--shipped-throttle", action="store_true", help="keep the shipped per-source feed rate")
    parser.add_argument(
        "--workers", type=int, default=2 * multiprocessing.cpu_count(), help="gunicorn workers (shipped: 2 per core)"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="RUNS", help="CPU per request in this process, no server"
    )
    parser.add_argument("--top", type=int, default=0, help="with --profile: the N costliest functions")
    parser.add_argument("--sort", default="tottime", help="with --top: the pstats order (tottime, cumulative)")
    parser.add_argument("--only", default="", help="with --top: only functions whose file or name matches this")
    parser.add_argument("--sql", action="store_true", help="with --profile: print the statements of one more request")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the benchmark database (filled by bench/generate.py).")
    refuse_shared_database()  # it writes appeals
    db_name = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    if args.profile:
        production_settings()
        os.environ["BENCH_FEED_RATE"] = "10000000/min"

    import django

    django.setup()
    from intake.models import Appeal
    from units.models import User
    from units.services import issue_api_token

    _, token = issue_api_token(user=User.objects.get(username="center"))
    total = Appeal.objects.count()
    if not args.shipped_throttle:
        os.environ["BENCH_FEED_RATE"] = "10000000/min"
    run_id = f"{dt.datetime.now():%H%M%S}"
    counter = itertools.count()
    rng = random.Random(7)

    def body(prefix: str) -> dict:
        n = next(counter)
        return {
            "external_id": f"BENCH-{prefix}-{run_id}-{n}",
            "citizen_name": "王建国",
            "citizen_phone": f"13800{rng.randrange(1_000_000):06d}",
            "content": rng.choice(TEXTS).format(place=rng.choice(PLACES) + f"{rng.randint(1, 300)}号"),
            "address": "临江市江北区" + rng.choice(PLACES),
            "category_hint": "噪音扰民",
            "received_at": dt.datetime.now(dt.UTC).isoformat(),
        }

    if args.profile:
        from bench.bare_wsgi import application

        print(
            f"{db_name}: {total:,} appeals; in process, {args.profile} requests of each kind; {machine_load()}; "
            f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            flush=True,
        )
        profile_in_process(
            {
                "bare JSON view (GET /bare/)": lambda: wsgi_call(application, "GET", "/bare/"),
                "feed push (POST /api/v1/feeds/12345/appeals/)": lambda: wsgi_call(
                    application,
                    "POST",
                    "/api/v1/feeds/12345/appeals/",
                    body=body("PUSH"),
                    headers={"Authorization": "Bearer demo-12345-key"},
                ),
                "staff create (POST /api/v1/appeals/)": lambda: wsgi_call(
                    application,
                    "POST",
                    "/api/v1/appeals/",
                    body={**body("STAFF"), "channel": "hotline"},
                    headers={"Authorization": f"Token {token}"},
                ),
            },
            runs=args.profile,
            top=args.top,
            show_sql=args.sql,
            sort=args.sort,
            restrict=args.only,
        )
        return
    print(
        f"{db_name}: {total:,} appeals; {args.workers} gunicorn workers, {args.connections} connections, "
        f"{args.seconds:.0f} s each; "
        f"feed throttle {'shipped' if args.shipped_throttle else 'raised'}; {machine_load()}; "
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        flush=True,
    )
    with serve(
        database_url(db_name), port=args.port, app="bench.bare_wsgi:application", timeout=60, workers=args.workers
    ) as base:
        kinds = {
            "bare JSON view (GET /bare/)": lambda s: s.get(f"{base}/bare/", timeout=30),
            "feed push (POST /api/v1/feeds/12345/appeals/)": lambda s: s.post(
                f"{base}/api/v1/feeds/12345/appeals/",
                json=body("PUSH"),
                headers={"Authorization": "Bearer demo-12345-key"},
                timeout=30,
            ),
            "staff create (POST /api/v1/appeals/)": lambda s: s.post(
                f"{base}/api/v1/appeals/",
                json={**body("STAFF"), "channel": "hotline"},
                headers={"Authorization": f"Token {token}"},
                timeout=30,
            ),
        }
        for call in kinds.values():  # one of each first: workers import and connect
            call(requests.Session())
        results = {}
        for label, call in kinds.items():
            with worker_rss(args.port) as rss:
                results[label] = drive(call, connections=args.connections, seconds=args.seconds)
            results[label]["rss"] = rss
    bare = results["bare JSON view (GET /bare/)"]["ok_per_s"]
    for label, r in results.items():
        cpu = r["rss"].pop("cpu", 0.0)
        done = sum(n for status, n in r["statuses"].items() if status in (200, 201))
        peaks = ", ".join(f"{mb:.0f}" for mb in sorted(r["rss"].values(), reverse=True)) or "?"
        print(
            f"  {label:<48} {r['ok_per_s']:8.1f} req/s  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
            f"{r['ok_per_s'] / bare:6.3f}× bare   answers {r['statuses']}   "
            f"web worker CPU {cpu * 1000 / max(done, 1):.2f} ms/request   worker RSS peaks {peaks} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
