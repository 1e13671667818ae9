"""Benchmark: the product's appeal import against a raw COPY of the same file, in one run.

Generates a 12345-style CSV of ``--rows`` valid rows (fake names and 临江市 addresses, phones
13800 + six random digits: obviously fake), then, one after the other on the database of
DATABASE_URL:

1. **raw COPY**: ``COPY … FROM STDIN (FORMAT csv, HEADER)`` of the file's bytes into a bare
   table created ``LIKE intake_appeal INCLUDING ALL`` in a scratch schema (the same columns,
   defaults, constraints and every index), committed. The columns the file does not carry get,
   as column defaults, what the import writes into them (``SCRATCH_DEFAULTS``: the empty title,
   the status, random 64-hex hashes…), so that every index — the expression indexes over the
   title and the text included — gets the same entries as from the import;
2. **the import**: the file through ``feeds.services.start_import`` as a staff upload, run in
   this process as the Celery worker runs it (the COPY path), committed;

and prints both times, their ratio and this process's resident memory (VmRSS sampled every
20 ms during each step: the peak, and how much it grew over the step; for the import also the
peak within each of its phases, read from the phases the import logs). ``--import-only`` skips
the raw COPY, to compare the import's memory at several sizes without loading the machine twice.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_h5 REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/import_copy.py --rows 100000

The database is created and migrated when missing (the demo data loaded into an empty one).
Appeals of earlier runs of this benchmark (external ids ``COPYBENCH-…``) are removed first and
the table vacuumed, so runs start alike; the scratch schema is dropped at the end. It refuses
the shared ``oc_bench…`` databases: the import writes appeals.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
# A million rows are ~200 MB, above the shipped 50 MB upload limit (a daily file is a few MB):
# raised for this process unless set.
os.environ.setdefault("FEED_IMPORT_MAX_BYTES", str(1 << 30))

from bench.httpbench import refuse_shared_database  # noqa: E402
from bench.import_appeals import HEADER, appeal_row, ensure_database  # noqa: E402

PREFIX = "COPYBENCH-"
# The file's columns, in order, as intake_appeal names them (what the raw COPY loads).
COLUMNS = (
    "external_id",
    "received_at",
    "citizen_name",
    "citizen_phone",
    "content",
    "address",
    "category_hint",
    "is_enterprise",
)
SCRATCH = "bench_copy_scratch"
# What the import writes into the columns the file does not carry (feeds.appeal_import), as SQL.
SCRATCH_DEFAULTS = {
    "channel": "'12345'",
    "tracking_code": f"upper(lpad(to_hex(nextval('{SCRATCH}.codes')), 8, '0'))",
    "kind": "'complaint'",
    "severity": "'blue'",
    "severity_rank": "3",
    "status": "'new'",
    "title": "''",
    "citizen_phone_hash": "md5(random()::text) || md5(random()::text)",
    "citizen_phone_last4": "lpad(floor(random() * 10000)::int::text, 4, '0')",
    "is_repeat": "false",
    "risk_words": "''",
    "public_reply": "''",
    "created_at": "now()",
    "updated_at": "now()",
}


def generate(path: Path, rows: int, *, seed: int) -> None:
    """Every row valid for both loaders; 涉企 written 1/0, which the import and PostgreSQL both read."""
    rng = random.Random(seed)
    run = f"{seed % 100000:05d}-"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER + "\r\n")
        for i in range(rows):
            fh.write(",".join(appeal_row(rng, f"{PREFIX}{run}{i:08d}", enterprise=("1", "0"))) + "\r\n")


def vm_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def rss_sampler():
    """The peak VmRSS of this process while the block runs (sampled every 20 ms), in MB; the
    samples themselves, as (wall clock, MB), under "samples"."""
    figures = {"start": vm_rss_mb(), "peak": vm_rss_mb(), "samples": []}
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            rss = vm_rss_mb()
            figures["peak"] = max(figures["peak"], rss)
            figures["samples"].append((time.time(), rss))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield figures
    finally:
        done.set()
        thread.join()
        figures["peak"] = max(figures["peak"], vm_rss_mb())


class PhaseLog(logging.Handler):
    """Keeps the import's log line that names its phases (``feeds.appeal_import``)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.args and isinstance(record.args[-1], dict):
            self.records.append(record)


def phase_peaks(record: logging.LogRecord | None, samples: list[tuple[float, float]]) -> str:
    """Each phase's seconds and peak VmRSS: the phases end when the import logs them, each lasting
    what it logged, so walking back from that moment places every sample in its phase."""
    if record is None:
        return ""
    phases: dict[str, float] = record.args[-1]
    end = record.created
    spans = []
    for name, seconds in reversed(list(phases.items())):
        spans.append((name, seconds, end - seconds, end))
        end -= seconds
    parts = []
    for name, seconds, start, stop in reversed(spans):
        inside = [rss for at, rss in samples if start <= at <= stop]
        parts.append(f"{name} {seconds:.1f} s / {max(inside):.0f} MB" if inside else f"{name} {seconds:.1f} s")
    return "; ".join(parts)


def raw_copy(connection, path: Path) -> float:
    """Seconds to COPY the file into the bare copy of intake_appeal and commit."""
    from django.db import transaction

    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCRATCH}")
        cursor.execute(f"CREATE TABLE {SCRATCH}.intake_appeal (LIKE public.intake_appeal INCLUDING ALL)")
        # The columns the file does not carry get what the import writes into them (values of the
        # same shape: random hashes and last digits, unique tracking codes), so every index,
        # expression indexes included, gets the entries it gets from the import.
        cursor.execute(f"CREATE SEQUENCE {SCRATCH}.codes")
        for column, default in SCRATCH_DEFAULTS.items():
            cursor.execute(f'ALTER TABLE {SCRATCH}.intake_appeal ALTER COLUMN "{column}" SET DEFAULT {default}')
        cursor.execute(
            """SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
               AND attnotnull AND NOT atthasdef AND attidentity = '' AND NOT (attname = ANY(%s))""",
            [f"{SCRATCH}.intake_appeal", list(COLUMNS)],
        )
        for (column,) in cursor.fetchall():  # a NOT NULL column added later and not listed below
            cursor.execute(f'ALTER TABLE {SCRATCH}.intake_appeal ALTER COLUMN "{column}" DROP NOT NULL')
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # An empty text cell is '' (as the import stores it), not NULL.
        texts = ", ".join(c for c in COLUMNS if c not in ("received_at", "is_enterprise"))
        sql = (
            f"COPY {SCRATCH}.intake_appeal ({', '.join(COLUMNS)}) FROM STDIN "
            f"WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL ({texts}))"
        )
        with cursor.cursor.copy(sql) as copy, path.open("rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--import-only", action="store_true", help="skip the raw COPY (memory at several sizes)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of your own (the COPY path is PostgreSQL's).")
    refuse_shared_database()
    ensure_database()

    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from bench.import_appeals import remove_bench_appeals
    from feeds.choices import FeedKind
    from feeds.models import FeedSource, ImportBatch
    from feeds.services import start_import
    from intake.models import Appeal

    call_command("migrate", verbosity=0)
    if not Appeal.objects.exists():
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            call_command("load_demo", verbosity=0, stdout=devnull)
    source, _ = FeedSource.objects.update_or_create(
        code="12345", defaults={"name": "12345政务服务便民热线", "kind": FeedKind.APPEALS, "channel": "12345"}
    )
    remove_bench_appeals(connection, PREFIX)
    ImportBatch.objects.filter(filename__startswith="copybench-").delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) intake_appeal, intake_appealevent")
        cursor.execute("SELECT count(*) FROM intake_appeal")
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'intake_appeal'")
        indexes = cursor.fetchone()[0]
    try:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"copybench-{args.rows}-{args.seed}.csv"
        started = time.perf_counter()
        generate(path, args.rows, seed=args.seed)
        print(
            f"{url.rsplit('/', 1)[-1]}: intake_appeal holds {stored:,} appeals, {indexes} indexes; "
            f"file of {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, made in "
            f"{time.perf_counter() - started:.1f} s; load average {load}; {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            flush=True,
        )
        copy_seconds = None
        if not args.import_only:
            try:
                with rss_sampler() as copy_rss:
                    copy_seconds = raw_copy(connection, path)
                print(
                    f"  raw COPY into a bare LIKE intake_appeal INCLUDING ALL  {copy_seconds:8.2f} s   "
                    f"RSS peak {copy_rss['peak']:6.0f} MB (+{copy_rss['peak'] - copy_rss['start']:.0f})",
                    flush=True,
                )
            finally:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
                    cursor.execute("CHECKPOINT")
        phase_log = PhaseLog()
        import_logger = logging.getLogger("feeds.appeal_import")
        import_logger.addHandler(phase_log)
        import_logger.setLevel(logging.INFO)
        with rss_sampler() as import_rss, path.open("rb") as fh:
            started = time.perf_counter()
            batch = start_import(
                kind=FeedKind.APPEALS, source=source, upload=File(fh, name=path.name), actor=None, run_now=True
            )
            import_seconds = time.perf_counter() - started
        import_logger.removeHandler(phase_log)
        print(
            f"  product import ({batch.method}), {batch.created:,} created, {batch.rejected:,} rejected "
            f"{import_seconds:8.2f} s   RSS peak {import_rss['peak']:6.0f} MB "
            f"(+{import_rss['peak'] - import_rss['start']:.0f})",
            flush=True,
        )
        phases = phase_peaks(phase_log.records[-1] if phase_log.records else None, import_rss["samples"])
        if phases:
            print(f"  import phases (time / peak RSS): {phases}", flush=True)
        ratio = f"{import_seconds / copy_seconds:.2f}×" if copy_seconds else "(raw COPY skipped)"
        print(
            f"  ratio import / raw COPY: {ratio}   "
            f"(max RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)",
            flush=True,
        )
        if batch.created != args.rows:
            sys.exit(f"expected {args.rows:,} appeals created, got {batch.created:,} (status {batch.status})")


if __name__ == "__main__":
    main()
