"""Scenario 3: an import killed at each phase, then run again, equals one clean run.

A generated CSV of N rows (bad phones, empty contents, bad dates, repeated external ids) is imported
with ``manage.py import_appeals --method copy|orm`` as a subprocess, SIGKILLed a series of delays
after its batch is seen running (claiming, reading, staging, validating, inserting, reporting:
wherever it happens to be), and run once more to the end.
The result must equal the same command run once, undisturbed, into a fresh copy of the same
database: the same appeals, one "received" row each, the same rejected rows with the same reasons.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from .harness import LOGS, ROOT, create_database, drop_database, manage, report

HEADER = "来源编号,受理时间,诉求人,联系电话,诉求内容,地址,分类,涉企"


def write_file(path, n: int) -> dict[str, int]:
    """N data rows: ~2 % bad phones, ~2 % empty contents, ~2 % bad dates, ~2.5 % repeated ids."""
    planted = {"bad_phone": 0, "empty": 0, "bad_date": 0, "repeat": 0}
    lines = [HEADER]
    for i in range(n):
        number = i - 1 if i % 40 == 3 else i
        phone, content, when = (
            f"1380000{i % 10000:04d}",
            f"小区门口第{number}号摊位占道经营，噪音扰民。",
            "2026-11-20 09:30",
        )
        if i % 40 == 3:
            planted["repeat"] += 1
        elif i % 50 == 7:
            phone = "12345"
            planted["bad_phone"] += 1
        elif i % 50 == 13:
            content = ""
            planted["empty"] += 1
        elif i % 50 == 21:
            when = "昨天下午"
            planted["bad_date"] += 1
        lines.append(f"CHAOS-IMP-{number:06d},{when},测试用户,{phone},{content},临江市江北区滨江路{i}号,噪音扰民,否")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return planted


def snapshot(url: str) -> dict:
    """What one import left in a database, in a form two databases can be compared by."""
    with psycopg.connect(url) as conn:
        appeals = conn.execute(
            "SELECT external_id, content, citizen_phone_hash, received_at, severity, category_id "
            "FROM intake_appeal WHERE channel = '12345' AND external_id LIKE 'CHAOS-IMP-%' ORDER BY external_id"
        ).fetchall()
        received = conn.execute(
            "SELECT e.appeal_id, count(*) FROM intake_appealevent e JOIN intake_appeal a ON a.id = e.appeal_id "
            "WHERE a.external_id LIKE 'CHAOS-IMP-%' AND e.action = 'received' GROUP BY e.appeal_id"
        ).fetchall()
        batches = conn.execute(
            "SELECT id, status, total_rows, created, duplicates, rejected, attempts FROM feeds_importbatch "
            "WHERE filename = 'chaos-import.csv' ORDER BY id"
        ).fetchall()
        rejected = conn.execute(
            "SELECT r.row_number, r.field, r.reason FROM feeds_importrowerror r "
            "JOIN feeds_importbatch b ON b.id = r.batch_id WHERE b.filename = 'chaos-import.csv' "
            "ORDER BY r.row_number, r.field, r.reason"
        ).fetchall()
    return {"appeals": appeals, "received": dict(received), "batches": batches, "rejected": rejected}


def _batch_running(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT status FROM feeds_importbatch WHERE filename = 'chaos-import.csv'").fetchone()
    return bool(row) and row[0] == "running"


def _import(path, url: str, log, method: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_appeals", "12345", str(path), "--method", method],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# Per method: rows, and the kills: seconds after the batch is seen running (one run per number).
PLANS = {
    "copy": ("CHAOS_IMPORT_N", "5000", "CHAOS_IMPORT_KILLS", "0,0.2,0.5,1,1.5,2.5"),
    "orm": ("CHAOS_IMPORT_ORM_N", "1000", "CHAOS_IMPORT_ORM_KILLS", "0,1,5,20,35"),
}


@pytest.mark.parametrize("method", ["copy", "orm"])
def test_import_killed_at_each_phase_then_rerun_equals_a_clean_run(scenario, tmp_path, template_db, method):
    _stack, url = scenario
    rows_env, rows_default, kills_env, kills_default = PLANS[method]
    n = int(os.environ.get(rows_env, rows_default))
    delays = [float(d) for d in os.environ.get(kills_env, kills_default).split(",")]
    path = tmp_path / "chaos-import.csv"
    planted = write_file(path, n)

    # Redis is not needed by the command; a Redis of the scenario keeps its enqueues off others'.
    stack = _stack
    stack.start_redis(int(os.environ["CHAOS_REDIS_PORT"]))

    phases = []
    log_path = LOGS / "import-kills.log"
    with open(log_path, "ab") as log:
        for delay in delays:
            proc = _import(path, url, log, method)
            limit = time.monotonic() + 120
            while proc.poll() is None and not _batch_running(url) and time.monotonic() < limit:
                time.sleep(0.02)
            time.sleep(delay)
            if proc.poll() is not None:
                phases.append((delay, f"finished rc={proc.returncode}"))
                break
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            state = snapshot(url)
            batch = state["batches"][-1] if state["batches"] else None
            phases.append(
                (
                    delay,
                    f"killed: batch {batch[1] if batch else '-'}, {len(state['appeals'])} appeals, "
                    f"{len(state['rejected'])} rejected rows",
                )
            )
        # Run again until it completes: a run that finds the batch past FEED_IMPORT_MAX_ATTEMPTS marks
        # it failed (and says so), and the next run of the same file imports it again, once.
        started = time.monotonic()
        reruns = []
        while len(reruns) < 3 and (not reruns or reruns[-1] != 0):
            reruns.append(_import(path, url, log, method).wait(timeout=600))
        assert reruns[-1] == 0, f"the re-runs failed ({reruns}), see {log_path}"
        rerun = time.monotonic() - started
    after_kills = snapshot(url)

    clean_name = f"oc_chaos_import_clean_{method}"
    clean_url = create_database(os.environ["DATABASE_URL"], clean_name, template=template_db)
    try:
        started = time.monotonic()
        result = manage("import_appeals", "12345", str(path), "--method", method, env={"DATABASE_URL": clean_url})
        clean_seconds = time.monotonic() - started
        clean = snapshot(clean_url)
    finally:
        if not os.environ.get("CHAOS_KEEP"):
            drop_database(os.environ["DATABASE_URL"], clean_name)

    expected = n - planted["repeat"] - planted["bad_phone"] - planted["empty"] - planted["bad_date"]
    assert len(clean["appeals"]) == expected, result.stdout[-2000:]
    assert after_kills["appeals"] == clean["appeals"]
    assert set(after_kills["received"].values()) == {1} and len(after_kills["received"]) == expected
    assert after_kills["rejected"] == clean["rejected"]
    assert len(after_kills["batches"]) == len(clean["batches"]) == 1
    _id, status, total, created, duplicates, rejected, attempts = after_kills["batches"][0]
    clean_batch = clean["batches"][0]
    assert status == clean_batch[1] == "done"
    assert (total, created + duplicates, rejected) == (clean_batch[2], clean_batch[3] + clean_batch[4], clean_batch[5])

    report(
        f"scenario 3: import ({method}) killed at each phase, then run again",
        rows=n,
        planted=planted,
        kills=len([p for p in phases if p[1].startswith("killed")]),
        phases="; ".join(f"+{d:g}s {what}" for d, what in phases),
        appeals=f"{len(after_kills['appeals'])} (clean run {len(clean['appeals'])})",
        rejected_rows=f"{len(after_kills['rejected'])} (clean run {len(clean['rejected'])})",
        batch_after_kills=f"created {created}, duplicates {duplicates}, rejected {rejected}, attempts {attempts}",
        batch_clean=f"created {clean_batch[3]}, duplicates {clean_batch[4]}, rejected {clean_batch[5]}",
        reruns=f"{len(reruns)} (exit codes {reruns})",
        rerun_seconds=f"{rerun:.1f}",
        clean_run_seconds=f"{clean_seconds:.1f}",
    )
