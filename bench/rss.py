"""Benchmark: the resident memory of a Celery worker running an appeal import, as production runs it.

Starts a Celery worker (``-Q imports``, the prefork pool with one child, as a worker host of the
imports queue would run it) on the database of DATABASE_URL and the broker of REDIS_URL,
uploads a generated 12345 file of ``--rows`` rows through ``feeds.services.start_import`` (the
batch's task goes to the broker after commit, as a staff upload's does), and samples every
100 ms the VmRSS of the worker's processes until the batch is done. Prints the peak of each
process (the main process and the pool child that runs the import) and the import's time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_h5 REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/rss.py --rows 100000

The web workers' memory under the push load is printed by ``bench/intake.py``. Refuses the
shared ``oc_bench…`` databases (the import writes appeals); appeals of earlier runs of this
benchmark (``RSSBENCH-…``) are removed first.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

from bench.httpbench import refuse_shared_database, stop_group, vm_rss_mb  # noqa: E402
from bench.import_copy import generate  # noqa: E402


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as fh:
                if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the batch")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL, your own database) and REDIS_URL (the broker).")
    refuse_shared_database()

    import django

    django.setup()
    from django.core.files import File
    from django.db import connection

    from bench.import_appeals import remove_bench_appeals
    from feeds.choices import BatchStatus, FeedKind
    from feeds.models import FeedSource, ImportBatch
    from feeds.services import start_import

    source = FeedSource.objects.get(code="12345")
    remove_bench_appeals(connection, "COPYBENCH-")
    log = open(ROOT / "var" / "bench-rss-celery.log", "w")
    worker = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "celery"), "-A", "opinion_center", "worker", "-Q", "imports"]
        + ["--pool=prefork", "--concurrency=1", "--without-heartbeat", "--without-mingle", "--without-gossip"]
        + ["--loglevel=INFO", "-n", f"rssbench-{os.getpid()}@%h"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    peaks: dict[int, float] = {}
    try:
        time.sleep(8)  # the worker imports Django and connects to the broker
        idle = {pid: vm_rss_mb(pid) for pid in [worker.pid, *children(worker.pid)]}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"rssbench-{args.rows}-{os.getpid()}.csv"
            generate(path, args.rows, seed=os.getpid())
            with path.open("rb") as fh:
                started = time.perf_counter()
                batch = start_import(kind=FeedKind.APPEALS, source=source, upload=File(fh, name=path.name), actor=None)
            deadline = time.monotonic() + args.timeout
            while True:
                for pid in [worker.pid, *children(worker.pid)]:
                    peaks[pid] = max(peaks.get(pid, 0.0), vm_rss_mb(pid))
                batch.refresh_from_db()
                if batch.status in (BatchStatus.DONE, BatchStatus.FAILED) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        print(
            f"{url.rsplit('/', 1)[-1]}: {args.rows:,} rows imported by a Celery worker in {elapsed:.1f} s "
            f"({batch.status}, {batch.created:,} created); load average "
            f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}; {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
        )
        for pid, peak in peaks.items():
            role = "main process" if pid == worker.pid else "pool child"
            print(f"  worker {role:<13} pid {pid:>7}: idle {idle.get(pid, 0):6.0f} MB, peak {peak:6.0f} MB")
        ImportBatch.objects.filter(pk=batch.pk).update(file="")
    finally:
        stop_group(worker, timeout=30)
        log.close()


if __name__ == "__main__":
    main()
