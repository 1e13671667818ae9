"""One file, one batch: re-uploads and re-runs take over the unfinished batch, a killed import is
taken over at once (its lock is free), and the uploaded file is gone whatever the ending."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from feeds.choices import BatchStatus, FeedKind
from feeds.models import ImportBatch
from feeds.services import run_import_batch, start_import, sweep_import_batches
from intake.models import Appeal, AppealEvent

from .test_imports import BAD, GOOD, csv_bytes, do_import, stored_batch, stored_files

ROOT = Path(__file__).resolve().parents[2]


def rows(n: int, prefix: str = "K") -> list[list[str]]:
    return [
        [f"{prefix}-{i}", "2026-11-20 08:00", "某某", f"1380000{i:04d}", f"第{i}件诉求", "", "", ""] for i in range(n)
    ]


# --- One file, one batch ------------------------------------------------------------------------


def test_the_same_file_again_is_reported_as_already_imported(sources, city, settings):
    first = do_import(sources["12345"], csv_bytes(GOOD + BAD))
    again = do_import(sources["12345"], csv_bytes(GOOD + BAD), name="another-name.csv")
    assert again.pk == first.pk
    assert again.earlier == BatchStatus.DONE
    assert ImportBatch.objects.count() == 1
    assert (again.created, again.rejected) == (2, 6)  # the first import's true figures
    assert AppealEvent.objects.filter(action="received").count() == 2
    assert stored_files(settings) == []
    # The same file for another source is another batch.
    other = do_import(sources["12389"], csv_bytes(GOOD + BAD))
    assert other.pk != first.pk and other.created == 2


def test_the_command_says_a_file_was_already_imported(sources, city, tmp_path):
    path = tmp_path / "12345.csv"
    path.write_bytes(csv_bytes(GOOD + BAD))
    call_command("import_appeals", "12345", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_appeals", "12345", str(path), stdout=out)
    batch = ImportBatch.objects.get()
    assert f"该文件已导入（批次 #{batch.pk}），未重复导入。" in out.getvalue()
    assert "总行数 8，新增 2，已存在 0，拒绝 6" in out.getvalue()


def test_re_uploading_a_queued_file_takes_over_its_batch(sources, city, django_capture_on_commit_callbacks):
    upload = {"kind": FeedKind.APPEALS, "source": sources["12345"], "actor": None}
    with django_capture_on_commit_callbacks(execute=False):
        queued = start_import(upload=SimpleUploadedFile("a.csv", csv_bytes(GOOD)), **upload)
    again = start_import(upload=SimpleUploadedFile("a.csv", csv_bytes(GOOD)), run_now=True, **upload)
    assert again.pk == queued.pk and again.earlier == BatchStatus.QUEUED
    assert (again.status, again.created) == (BatchStatus.DONE, 2)
    assert ImportBatch.objects.count() == 1


def test_re_uploading_a_failed_file_runs_its_batch_again(sources, city, settings):
    batch = stored_batch(
        sources["12345"], status=BatchStatus.FAILED, attempts=3, hashed=True, error="导入出错：OperationalError"
    )
    again = do_import(sources["12345"], csv_bytes(GOOD))
    assert again.pk == batch.pk and again.earlier == BatchStatus.FAILED
    assert (again.status, again.attempts, again.created, again.error) == (BatchStatus.DONE, 1, 2, "")
    assert stored_files(settings) == []


# --- The uploaded file is gone however the batch ends -----------------------------------------
# (A batch failed for too many attempts: test_imports.py, with the administrators' notice.)


def test_the_file_is_gone_after_a_failed_batch(sources, city, settings):
    batch = do_import(sources["12345"], csv_bytes([["x", "y"]], header=["姓名", "电话"]))
    assert batch.status == BatchStatus.FAILED
    assert not batch.file and stored_files(settings) == []


def test_the_sweeper_deletes_a_file_left_by_a_process_killed_after_its_batch_ended(sources, city, settings):
    batch = stored_batch(sources["12345"], status=BatchStatus.DONE, with_file=True)
    sweep_import_batches()
    batch.refresh_from_db()
    assert not batch.file and stored_files(settings) == []


# --- A killed import ----------------------------------------------------------------------------


def _dsn() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_command(path: Path, settings) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(DATABASE_URL=_dsn(), MEDIA_ROOT=settings.MEDIA_ROOT, DJANGO_DEBUG="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_appeals", "12345", str(path), "--method", "copy"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait(condition, seconds: float = 60, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(process.stdout.read().decode())
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _kill_an_import_midway(path: Path, settings) -> ImportBatch:
    """Run the command in another process, stop it inside the import (a table lock it waits for)
    and kill it there, as the OOM killer or a deploy would."""
    waiting = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    with psycopg.connect(_dsn()) as blocker, psycopg.connect(_dsn(), autocommit=True) as watcher:
        blocker.execute("LOCK TABLE intake_appeal IN ACCESS EXCLUSIVE MODE")
        process = _start_command(path, settings)
        try:
            _wait(lambda: watcher.execute(waiting).fetchone() is not None, process=process)
            [pid] = watcher.execute(waiting).fetchone()
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        blocker.rollback()
        # The server notices the dead client once its statement ends, and rolls its work back.
        _wait(lambda: watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None)
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.RUNNING and batch.attempts == 1
    assert Appeal.objects.count() == 0
    return batch


@pytest.mark.django_db(transaction=True)
def test_re_running_the_command_takes_over_a_killed_import_at_once(sources, city, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = tmp_path / "12345.csv"
    path.write_bytes(csv_bytes(rows(30) + BAD))
    dead = _kill_an_import_midway(path, settings)
    assert stored_files(settings)  # the killed process left its upload behind
    out = io.StringIO()
    call_command("import_appeals", "12345", str(path), "--method", "copy", stdout=out)
    assert f"接管未完成的批次 #{dead.pk}" in out.getvalue()
    assert "总行数 36，新增 31，已存在 0，拒绝 5" in out.getvalue()
    batch = ImportBatch.objects.get()
    assert (batch.pk, batch.status, batch.attempts, batch.created) == (dead.pk, BatchStatus.DONE, 2, 31)
    assert Appeal.objects.count() == 31
    assert not batch.file and stored_files(settings) == []


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_takes_over_a_killed_import_without_waiting(sources, city, settings, tmp_path, celery_eager):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = tmp_path / "12345.csv"
    path.write_bytes(csv_bytes(rows(12)))
    _kill_an_import_midway(path, settings)
    assert settings.FEED_IMPORT_STALE_SECONDS >= 900
    assert sweep_import_batches() == 1  # at once, not after FEED_IMPORT_STALE_SECONDS
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created, batch.duplicates) == (BatchStatus.DONE, 12, 0)
    assert stored_files(settings) == []
    assert sweep_import_batches() == 0


@pytest.mark.django_db(transaction=True)
def test_a_live_import_is_neither_taken_over_nor_swept(sources, city, settings, tmp_path):
    import threading

    from django.db import connections

    from feeds.services import import_lock

    batch = stored_batch(
        sources["12345"], status=BatchStatus.RUNNING, attempts=1, hours_ago=2, with_file=True, hashed=True
    )
    holding, release = threading.Event(), threading.Event()

    def live_runner():
        from django.db import transaction

        # As a real run: the run lock, and the batch row locked by the import's transaction.
        with import_lock(batch.pk) as held, transaction.atomic():
            assert held
            ImportBatch.objects.select_for_update().get(pk=batch.pk)
            holding.set()
            release.wait(20)
        connections.close_all()

    runner = threading.Thread(target=live_runner)
    runner.start()
    assert holding.wait(10)
    try:
        assert sweep_import_batches() == 0
        assert run_import_batch(batch.pk) is None
        # A re-upload of the file neither waits for the live run nor starts another one.
        again = do_import(sources["12345"], csv_bytes(GOOD))
        assert again.pk == batch.pk and again.status == BatchStatus.RUNNING
    finally:
        release.set()
        runner.join()
    assert Appeal.objects.count() == 0
    assert run_import_batch(batch.pk).status == BatchStatus.DONE
    assert Appeal.objects.count() == 2
