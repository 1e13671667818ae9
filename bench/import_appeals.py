"""Benchmark: a daily 100,000-row 12345 file through the COPY import path on PostgreSQL.

Generates a CSV of realistic fake appeals (names, 临江市 addresses, category hints, ~1% broken
rows; phones are 13800 + six random digits: obviously fake), imports it as a staff upload would
(same service, same transaction), then imports it again (every row a duplicate), and prints the
figures. Optionally times the row-by-row path on a sample for comparison.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_feeds_bench REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/import_appeals.py --rows 100000 --orm-sample 2000

The database named in DATABASE_URL is created and migrated when missing; appeals of earlier runs
are removed first so every run starts from the same state.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "建国",
    "秀英",
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "桂英",
    "玉兰",
    "志强",
    "海燕",
]
STREETS = [
    "滨江路",
    "北湖路",
    "南门街",
    "新华路",
    "科技园路",
    "湖滨大道",
    "城关镇东街",
    "河口镇中心街",
    "人民路",
    "解放路",
]
DISTRICTS = ["江北区", "江南区", "高新区", "临江县"]
MATTERS = [
    ("违章停车", "{place}门口每天有车辆乱停乱放，堵住消防通道，希望交警管一管。"),
    ("噪音扰民", "{place}附近的烧烤店营业到凌晨，噪音很大，严重影响休息。"),
    ("户口迁移", "孩子上学需要把户口迁到{place}，请问需要准备什么材料？"),
    ("身份证办理", "在{place}派出所补办身份证已经三周，还没有通知领取。"),
    ("案件进展", "上个月在{place}电动车被盗，报警后一直没有消息，想了解进展。"),
    ("服务态度", "在{place}窗口办事时工作人员态度生硬，希望改进。"),
    ("交通事故处理", "{place}路口发生交通事故后，对方拒不赔偿，希望交警协调。"),
    ("道路拥堵", "{place}早晚高峰拥堵严重，建议增加信号灯配时或交警疏导。"),
    ("", "{place}夜间有人聚集喝酒，担心治安，希望加强巡逻。"),
    ("车驾管业务", "在{place}车管所办理驾驶证换证排队时间太长。"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bad-share", type=float, default=0.01, help="share of deliberately broken rows")
    parser.add_argument("--orm-sample", type=int, default=0, help="also time the row-by-row path on N rows")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--index-cost", action="store_true", help="also time the bare insert with and without indexes")
    return parser.parse_args()


def ensure_database() -> None:
    import psycopg

    url = urllib.parse.urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    with psycopg.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname="postgres", autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING UTF8')


HEADER = "来源编号,受理时间,诉求人,联系电话,诉求内容,地址,分类,涉企"
START = datetime(2026, 11, 20, 0, 0)


def appeal_row(rng: random.Random, external_id: str, *, enterprise: tuple[str, str] = ("是", "否")) -> list[str]:
    """One valid row of an appeals import file (the columns of ``HEADER``): received some time on
    20 November 2026, a caller, a matter at a street of 临江市 with its category hint, and 涉企
    written ``enterprise[0]`` (one row in twenty) or ``enterprise[1]``."""
    hint, template = rng.choice(MATTERS)
    district, street = rng.choice(DISTRICTS), rng.choice(STREETS)
    place = f"{district}{street}{rng.randint(1, 300)}号"
    received = START + timedelta(seconds=rng.randint(0, 86_399))
    return [
        external_id,
        received.strftime("%Y-%m-%d %H:%M:%S"),
        rng.choice(SURNAMES) + rng.choice(GIVEN),
        f"13800{rng.randint(0, 999_999):06d}",
        template.format(place=f"{street}{rng.randint(1, 300)}号"),
        f"临江市{place}",
        hint,
        enterprise[0] if rng.random() < 0.05 else enterprise[1],
    ]


def generate(path: Path, rows: int, *, bad_share: float, seed: int, prefix: str) -> int:
    rng = random.Random(seed)
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(HEADER + "\r\n")
        for i in range(rows):
            row = appeal_row(rng, f"{prefix}{i:07d}")
            if rng.random() < bad_share:
                bad += 1
                broken = rng.randrange(3)
                if broken == 0:
                    row[3] = "1380000"  # too short
                elif broken == 1:
                    row[4] = ""  # no content
                else:
                    row[1] = "2026-02-30 10:00"  # no such day
            fh.write(",".join(row) + "\r\n")
    return bad


def remove_bench_appeals(connection, prefix: str) -> None:
    """Forget the appeals of earlier runs (and links to them) so every run starts the same."""
    mine = "SELECT id FROM intake_appeal WHERE external_id LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE intake_appeal SET repeat_of_id = NULL WHERE repeat_of_id IN ({mine})", [prefix + "%"])
        cursor.execute(
            f"UPDATE intake_appeal SET merged_into_id = NULL WHERE merged_into_id IN ({mine})", [prefix + "%"]
        )
        cursor.execute(f"DELETE FROM intake_appealevent WHERE appeal_id IN ({mine})", [prefix + "%"])
        cursor.execute("DELETE FROM intake_appeal WHERE external_id LIKE %s", [prefix + "%"])


def main() -> None:
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the COPY path is PostgreSQL-only).")
    ensure_database()

    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from feeds.choices import FeedKind
    from feeds.models import FeedSource, ImportBatch
    from feeds.services import start_import
    from intake.models import Appeal

    source, _ = FeedSource.objects.update_or_create(
        code="12345", defaults={"name": "12345政务服务便民热线", "kind": FeedKind.APPEALS, "channel": "12345"}
    )
    if not Appeal.objects.exists():
        # Categories, units and users; other apps' demo output is not what this benchmark prints.
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            call_command("load_demo", verbosity=0, stdout=devnull)
    remove_bench_appeals(connection, "BENCH-")
    with connection.cursor() as cursor:
        # Dead rows of earlier runs would otherwise slow this one (GIN indexes in particular).
        cursor.execute("VACUUM (ANALYZE) intake_appeal, intake_appealevent, feeds_importrowerror")
        cursor.execute("CHECKPOINT")
    ImportBatch.objects.filter(filename__startswith="bench-").delete()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bench-12345-{args.rows}.csv"
        t0 = time.perf_counter()
        bad = generate(path, args.rows, bad_share=args.bad_share, seed=args.seed, prefix="BENCH-")
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({bad:,} broken), {size_mb:.1f} MB in {time.perf_counter() - t0:.1f} s")

        def run(label: str, file_path: Path, method: str | None) -> ImportBatch:
            with file_path.open("rb") as fh:
                started = time.perf_counter()
                batch = start_import(
                    kind=FeedKind.APPEALS,
                    source=source,
                    upload=File(fh, name=file_path.name),
                    actor=None,
                    run_now=True,
                    method=method,
                )
                elapsed = time.perf_counter() - started
            print(
                f"{label:<28} {batch.method:<4} rows={batch.total_rows:>7,} created={batch.created:>7,} "
                f"duplicates={batch.duplicates:>7,} rejected={batch.rejected:>5,}  "
                f"{elapsed:6.2f} s  {batch.total_rows / elapsed:>9,.0f} rows/s"
            )
            return batch

        first = run("first import (COPY)", path, "copy")
        # The same file again is its batch again (one file, one batch): re-export the same rows.
        again = Path(tmp) / f"bench-12345-{args.rows}-again.csv"
        again.write_bytes(path.read_bytes() + b"\n")
        second = run("re-import, all duplicates", again, "copy")
        assert first.created + first.rejected == args.rows, "every row is either created or reported"
        assert second.created == 0 and second.duplicates == first.created

        if args.index_cost:
            # How much of the insert is intake_appeal's own indexes (4 of them trigram GIN): the
            # same rows into a bare copy of the table and into one with every index, rolled back.
            from django.db import transaction

            for label, like in (
                ("insert, no indexes", "INCLUDING DEFAULTS"),
                ("insert, intake's indexes", "INCLUDING ALL"),
            ):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"CREATE TEMP TABLE bench_copy (LIKE intake_appeal {like}) ON COMMIT DROP")
                    started = time.perf_counter()
                    cursor.execute(
                        "INSERT INTO bench_copy SELECT * FROM intake_appeal WHERE external_id LIKE 'BENCH-%%'"
                    )
                    elapsed = time.perf_counter() - started
                    transaction.set_rollback(True)
                print(f"{label:<28}      {first.created:>7,} rows  {elapsed:6.2f} s")

        if args.orm_sample:
            sample = Path(tmp) / f"bench-sample-{args.orm_sample}.csv"
            generate(sample, args.orm_sample, bad_share=args.bad_share, seed=args.seed + 1, prefix="BENCH-S-")
            run(f"row by row, {args.orm_sample:,}-row sample", sample, "orm")
            remove_bench_appeals(connection, "BENCH-S-")
            sample2 = Path(tmp) / f"bench-sample-copy-{args.orm_sample}.csv"
            generate(sample2, args.orm_sample, bad_share=args.bad_share, seed=args.seed + 1, prefix="BENCH-S-")
            run(f"COPY, same {args.orm_sample:,}-row sample", sample2, "copy")


if __name__ == "__main__":
    main()
