"""Appeal imports: reading files, the row-by-row report, idempotent re-imports, both paths."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from feeds.appeal_import import parse_received_at
from feeds.choices import BatchStatus, FeedKind
from feeds.imports import APPEAL_HEADER_ALIASES
from feeds.models import ImportBatch, ImportRowError
from feeds.services import run_import_batch, start_import, sweep_import_batches
from intake.choices import Severity
from intake.models import Appeal, AppealEvent, Category, RiskWord
from units.tabular import ImportFileError, read_rows

HEADER = ["来源编号", "受理时间", "诉求人", "联系电话", "诉求内容", "地址", "分类", "涉企"]
GOOD = [
    [
        "A-001",
        "2026-11-20 08:12",
        "王建国",
        "13800001201",
        "菜市场门口乱停车，堵住消防通道。",
        "滨江路88号",
        "违章停车",
        "否",
    ],
    [
        "A-002",
        "2026-11-20T09:40:00+08:00",
        "李秀英",
        "138 0000 1202",
        "烧烤店营业到凌晨，噪音扰民。",
        "北湖小区",
        "",
        "是",
    ],
]
BAD = [
    ["A-003", "2026-11-20 10:05", "张伟", "138000012", "身份证补领进度。", "", "", ""],  # bad phone
    ["", "2026-11-20 10:10", "刘洋", "", "没有编号的一行。", "", "", ""],  # no external id
    ["A-005", "2026-02-30 10:00", "陈静", "", "日期不存在的一行。", "", "", ""],  # no such date
    ["A-006", "", "赵磊", "", "", "", "", "或许"],  # three errors on one row
    ["A-001", "2026-11-20 11:00", "王建国", "13800001201", "同一编号再出现一次。", "", "", ""],  # repeat in file
    ["A-008", "2099-01-01 00:00", "孙丽", "", "来自未来的一行。", "", "", ""],  # future
]
EXPECTED_ERRORS = [
    (4, "联系电话", "电话号码格式不正确。"),
    (5, "来源编号", "来源编号不能为空。"),
    (6, "受理时间", "受理时间格式不正确，应为“2026-05-20 14:30”或带时区的 ISO 8601 时间。"),
    (7, "受理时间", "受理时间不能为空。"),
    (7, "诉求内容", "诉求内容不能为空。"),
    (7, "涉企", "涉企只能填写“是”或“否”。"),
    (8, "来源编号", "与第 2 行的来源编号重复。"),
    (9, "受理时间", "受理时间晚于当前时间。"),
]


def csv_bytes(rows, *, header=HEADER, encoding="utf-8-sig") -> bytes:
    text = "\r\n".join(",".join(r) for r in [header, *rows]) + "\r\n"
    return text.encode(encoding)


def xlsx_bytes(rows, *, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def do_import(source, data: bytes, *, name="appeals.csv", method=None, actor=None) -> ImportBatch:
    batch = start_import(
        kind=FeedKind.APPEALS,
        source=source,
        upload=SimpleUploadedFile(name, data),
        actor=actor,
        run_now=True,
        method=method,
    )
    batch.refresh_from_db()
    return batch


def stored_batch(
    source, *, status: str, attempts: int = 0, hours_ago: float | None = None, with_file=False, hashed=False, **fields
) -> ImportBatch:
    """An appeals batch of the file ``a.csv`` holding ``GOOD``, as an earlier run left it:
    ``status`` after ``attempts`` runs, the last started ``hours_ago`` hours ago; ``with_file``: its
    upload still stored; ``hashed``: the file's digest kept, so that a re-upload finds the batch."""
    if hours_ago is not None:
        fields["started_at"] = timezone.now() - timedelta(hours=hours_ago)
    if hashed:
        fields["file_sha256"] = hashlib.sha256(csv_bytes(GOOD)).hexdigest()
    batch = ImportBatch.objects.create(
        kind=FeedKind.APPEALS, source=source, filename="a.csv", status=status, attempts=attempts, **fields
    )
    if with_file:
        batch.file.save("a.csv", SimpleUploadedFile("a.csv", csv_bytes(GOOD)))
    return batch


def stored_files(settings) -> list[Path]:
    """The files under MEDIA_ROOT (uploads not deleted yet)."""
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def report(batch: ImportBatch) -> list[tuple[int, str, str]]:
    return list(
        ImportRowError.objects.filter(batch=batch)
        .order_by("row_number", "field")
        .values_list("row_number", "field", "reason")
    )


# --- Reading files -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_it_reads_csv_in_utf8_and_chinese_encodings(encoding):
    rows = list(
        read_rows(io.BytesIO(csv_bytes(GOOD, encoding=encoding)), filename="x.csv", aliases=APPEAL_HEADER_ALIASES)
    )
    assert [n for n, _ in rows] == [2, 3]
    assert rows[0][1]["external_id"] == "A-001"
    assert rows[0][1]["citizen_name"] == "王建国"
    assert rows[1][1]["content"] == "烧烤店营业到凌晨，噪音扰民。"


def test_it_reads_english_headers_and_xlsx_cells_typed_as_numbers_and_dates():
    import datetime as dt

    header = ["external_id", "received_at", "citizen_name", "citizen_phone", "content"]
    data = xlsx_bytes([["B-1", dt.datetime(2026, 11, 20, 8, 5), "周强", 13800001301, "内容"]], header=header)
    [(number, row)] = list(read_rows(io.BytesIO(data), filename="x.xlsx", aliases=APPEAL_HEADER_ALIASES))
    assert number == 2
    assert row == {
        "external_id": "B-1",
        "received_at": "2026-11-20 08:05:00",
        "citizen_name": "周强",
        "citizen_phone": "13800001301",
        "content": "内容",
    }


def test_it_skips_empty_lines_but_keeps_spreadsheet_row_numbers():
    data = csv_bytes([GOOD[0], [""] * 8, GOOD[1]])
    assert [n for n, _ in read_rows(io.BytesIO(data), filename="x.csv", aliases=APPEAL_HEADER_ALIASES)] == [2, 4]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.xls", b"whatever", "不支持旧版 .xls"),
        ("x.pdf", b"%PDF", "只支持 CSV 或 XLSX"),
        ("x.xlsx", b"not a zip", "无法读取 Excel"),
        ("x.csv", b"", "文件为空"),
    ],
)
def test_it_refuses_unreadable_files_in_chinese(name, data, message):
    with pytest.raises(ImportFileError, match=message):
        list(read_rows(io.BytesIO(data), filename=name, aliases=APPEAL_HEADER_ALIASES))


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-11-20 08:12", "2026-11-20T00:12:00+00:00"),
        ("2026/1/5 8:02:03", "2026-01-05T00:02:03+00:00"),
        ("2026-11-20T09:40:00+08:00", "2026-11-20T01:40:00+00:00"),
        ("2026-11-20T09:40:00Z", "2026-11-20T09:40:00+00:00"),
        ("2026-11-20 09:40+0530", "2026-11-20T04:10:00+00:00"),
        ("2026-11-20", "2026-11-19T16:00:00+00:00"),
    ],
)
def test_it_parses_the_dates_platforms_write(text, iso):
    assert parse_received_at(text).astimezone(dt.UTC).isoformat() == iso


@pytest.mark.parametrize("text", ["2026-02-30 10:00", "2026-13-01", "20/11/2026", "昨天", "2026-11-20 25:00"])
def test_it_refuses_what_is_not_a_date(text):
    assert parse_received_at(text) is None


# --- The report, on both paths -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_lets_good_rows_in_and_reports_every_bad_row(sources, city, method, center):
    batch = do_import(sources["12345"], csv_bytes(GOOD + BAD), method=method, actor=center)
    assert batch.status == BatchStatus.DONE
    assert batch.method == method
    assert (batch.total_rows, batch.created, batch.duplicates, batch.rejected) == (8, 2, 0, 6)
    assert report(batch) == sorted(EXPECTED_ERRORS, key=lambda e: (e[0], e[1]))
    assert sorted(Appeal.objects.values_list("external_id", flat=True)) == ["A-001", "A-002"]
    phone_raw = ImportRowError.objects.get(batch=batch, row_number=4).raw
    assert phone_raw["联系电话"] == "138****12"  # never the readable number in the report
    a2 = Appeal.objects.get(external_id="A-002")
    assert a2.is_enterprise is True
    assert a2.citizen_phone == "+8613800001202"
    assert a2.created_by == center


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_creates_nothing_twice_when_the_same_rows_come_again(sources, city, method):
    first = do_import(sources["12345"], csv_bytes(GOOD + BAD), method=method)
    # Another export of the same rows (not the same file: that one is its batch again).
    second = do_import(sources["12345"], csv_bytes(GOOD + BAD) + b"\r\n", method=method)
    assert second.pk != first.pk
    assert (second.created, second.duplicates, second.rejected) == (0, 2, 6)
    assert report(second) == report(first)
    assert Appeal.objects.count() == 2
    assert AppealEvent.objects.filter(action="received").count() == 2


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_counts_rows_pushed_earlier_as_duplicates(sources, city, api, method):
    from feeds.services import receive_appeal

    receive_appeal(
        source=sources["12345"],
        data={"external_id": "A-001", "received_at": timezone.now(), "content": "先推送来的", "citizen_phone": ""},
    )
    batch = do_import(sources["12345"], csv_bytes(GOOD), method=method)
    assert (batch.method, batch.created, batch.duplicates) == (method, 1, 1)
    assert Appeal.objects.get(external_id="A-001").content == "先推送来的"


SHAPE = [
    "kind",
    "category_id",
    "severity",
    "severity_rank",
    "status",
    "risk_words",
    "citizen_phone",
    "citizen_phone_hash",
    "received_at",
    "citizen_name",
    "address",
    "category_hint",
    "is_enterprise",
    "is_repeat",
    "similarity",
    "title",
]


def shape(appeal: Appeal) -> dict:
    data = {f: getattr(appeal, f) for f in SHAPE}
    data["repeat_of"] = appeal.repeat_of.external_id if appeal.repeat_of else None
    original = appeal.repeat_of
    # Tracking codes are random per run: name the original by its external id instead.
    data["events"] = [
        (e.action, e.note.replace(original.tracking_code, original.external_id or "-") if original else e.note)
        for e in appeal.events.order_by("created_at", "id")
    ]
    return data


def test_it_gives_imported_appeals_the_same_shape_on_both_paths(sources, city, center):
    """The COPY path must give what intake's create_appeal gives row by row: category and
    severity proposal, risk words, repeat links (to stored appeals and within the file), timeline."""
    from intake.services import create_appeal

    parking = Category.objects.create(code="T-PARK", name="违章停车", default_severity=Severity.YELLOW)
    RiskWord.objects.create(word="同归于尽")
    earlier, _ = create_appeal(
        channel="hotline",
        citizen_phone="13800001203",
        content="楼下烧烤店每天营业到凌晨两点，油烟和噪音扰民严重",
        received_at=parse_received_at("2026-11-18 22:00"),
    )
    rows = [
        ["C-1", "2026-11-20 08:12", "王建国", "13800001201", "门口乱停车。", "滨江路", "违章停车", "否"],
        ["C-2", "2026-11-20 08:13", "李四", "13800001202", "再不处理就同归于尽。", "", "", ""],
        ["C-3", "2026-11-20 08:14", "赵六", "13800001203", "楼下烧烤店营业到凌晨两点，噪音扰民严重", "", "", ""],
        ["C-4", "2026-11-20 09:00", "钱七", "13800001204", "小区电动车充电桩旁边经常有人偷电瓶", "", "", ""],
        ["C-5", "2026-11-20 10:00", "钱七", "13800001204", "小区电动车充电桩旁边又有人偷电瓶了", "", "", "是"],
    ]
    shapes = {}
    for method in ("copy", "orm"):
        batch = do_import(sources["12389"], csv_bytes(rows), method=method, actor=center)
        assert (batch.method, batch.created) == (method, 5)
        imported = Appeal.objects.filter(channel="12389").select_related("repeat_of")
        shapes[method] = {a.external_id: shape(a) for a in imported}
        imported.delete()
        ImportBatch.objects.all().delete()  # so that the same file is imported again
    assert shapes["copy"] == shapes["orm"]
    copy = shapes["copy"]
    assert copy["C-1"]["category_id"] == parking.pk and copy["C-1"]["severity"] == Severity.YELLOW
    assert copy["C-2"]["severity"] == Severity.RED and copy["C-2"]["risk_words"] == "同归于尽"
    assert copy["C-3"]["repeat_of"] is None and copy["C-3"]["is_repeat"] is True
    assert copy["C-3"]["events"][1][1].startswith("与 - 相似度")
    assert Appeal.objects.get(pk=earlier.pk).repeats.count() == 0  # the imported ones were removed
    assert copy["C-5"]["repeat_of"] == "C-4"
    assert [e[0] for e in copy["C-2"]["events"]] == ["received", "risk_alert"]


@pytest.mark.parametrize("method", ["copy", "orm"])
def test_it_alerts_the_center_about_risk_words_in_an_imported_file(
    sources, city, center, method, django_capture_on_commit_callbacks
):
    from units.models import Notification

    RiskWord.objects.create(word="同归于尽")
    rows = [["R-1", "2026-11-20 08:13", "李四", "13800001202", "再不处理就同归于尽。", "", "", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        do_import(sources["12389"], csv_bytes(rows), method=method, actor=center)
    appeal = Appeal.objects.get(external_id="R-1")
    assert Notification.objects.filter(user=center, dedupe_key=f"intake-risk-{appeal.pk}").count() == 1


def test_it_takes_the_copy_path_for_large_files_on_postgresql(sources, city, settings):
    settings.FEED_IMPORT_COPY_MIN_ROWS = 5
    rows = [[f"L-{i}", "2026-11-20 08:00", "某某", f"1380000{i:04d}", f"第{i}件诉求", "", "", ""] for i in range(12)]
    batch = do_import(sources["12345"], csv_bytes(rows))
    assert (batch.method, batch.created) == ("copy", 12)
    small = do_import(sources["12345"], csv_bytes(rows[:3]), name="small.csv")
    assert (small.method, small.duplicates) == ("orm", 3)


def test_the_copy_path_stores_the_last_four_digits_the_desk_searches(sources, city, settings):
    settings.FEED_IMPORT_COPY_MIN_ROWS = 2
    rows = [[f"Q-{i}", "2026-11-20 08:00", "某某", f"1380000{i:04d}", f"第{i}件诉求", "", "", ""] for i in range(3)]
    rows.append(["Q-9", "2026-11-20 08:00", "某某", "", "没有留电话", "", "", ""])
    batch = do_import(sources["12345"], csv_bytes(rows))
    assert batch.method == "copy"
    stored = dict(Appeal.objects.filter(external_id__startswith="Q-").values_list("external_id", "citizen_phone_last4"))
    assert stored == {"Q-0": "0000", "Q-1": "0001", "Q-2": "0002", "Q-9": ""}


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_imports_an_xlsx_file(sources, city, method):
    batch = do_import(sources["message-board"], xlsx_bytes(GOOD + BAD), name="留言板.xlsx", method=method)
    assert (batch.method, batch.created, batch.rejected) == (method, 2, 6)
    assert report(batch) == sorted(EXPECTED_ERRORS, key=lambda e: (e[0], e[1]))
    assert Appeal.objects.filter(channel="message_board").count() == 2


def test_it_fails_a_file_without_the_required_columns_with_a_clear_reason(sources, city):
    data = csv_bytes([["x", "y"]], header=["姓名", "电话"])
    batch = do_import(sources["12345"], data)
    assert batch.status == BatchStatus.FAILED
    assert batch.error == "缺少必需的列：来源编号、受理时间、诉求内容。"
    assert Appeal.objects.count() == 0


def test_it_refuses_an_upload_that_is_not_a_spreadsheet(sources, city):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="只支持 CSV 或 XLSX"):
        start_import(
            kind=FeedKind.APPEALS, source=sources["12345"], upload=SimpleUploadedFile("a.doc", b"x"), actor=None
        )


# --- Claims and the sweeper ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_runs_a_batch_once_however_often_it_is_run(sources, city, method):
    batch = do_import(sources["12345"], csv_bytes(GOOD + BAD), method=method)
    assert run_import_batch(batch.pk) is None
    assert run_import_batch(batch.pk) is None
    assert ImportRowError.objects.filter(batch=batch).count() == len(EXPECTED_ERRORS)
    assert Appeal.objects.count() == 2


def test_it_redrives_a_batch_whose_worker_died(
    sources, city, settings, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        batch = start_import(
            kind=FeedKind.APPEALS,
            source=sources["12345"],
            upload=SimpleUploadedFile("a.csv", csv_bytes(GOOD + BAD)),
            actor=None,
        )
    # The worker claimed it and died before committing anything.
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, attempts=1, started_at=timezone.now() - timedelta(hours=1)
    )
    assert sweep_import_batches() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.created, batch.rejected) == (BatchStatus.DONE, 2, 2, 6)
    assert sweep_import_batches() == 0
    assert Appeal.objects.count() == 2


def test_it_leaves_a_fresh_queued_batch_to_its_own_task(sources, city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start_import(
            kind=FeedKind.APPEALS,
            source=sources["12345"],
            upload=SimpleUploadedFile("a.csv", csv_bytes(GOOD)),
            actor=None,
        )
    assert len(callbacks) == 1  # the task is sent after commit
    assert sweep_import_batches() == 0


def test_it_fails_a_batch_after_too_many_attempts_tells_the_administrators_and_deletes_the_file(
    sources, city, settings, administrator, django_capture_on_commit_callbacks
):
    from units.models import Notification

    settings.FEED_IMPORT_MAX_ATTEMPTS = 2
    batch = stored_batch(sources["12345"], status=BatchStatus.RUNNING, attempts=2, hours_ago=2, with_file=True)
    assert stored_files(settings)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert run_import_batch(batch.pk) is None
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert not batch.file and stored_files(settings) == []
    assert Appeal.objects.count() == 0
    assert Notification.objects.filter(user=administrator, dedupe_key=f"feeds-batch-failed-{batch.pk}").count() == 1


# --- The management command --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_imports_from_the_command_line_and_prints_the_report(sources, city, tmp_path, method):
    path = tmp_path / "12345.csv"
    path.write_bytes(csv_bytes(GOOD + BAD))
    out = io.StringIO()
    call_command("import_appeals", "12345", str(path), "--method", method, stdout=out)
    text = out.getvalue()
    assert "总行数 8，新增 2，已存在 0，拒绝 6" in text
    assert "第 4 行\t联系电话\t电话号码格式不正确。" in text
    out = io.StringIO()
    call_command("import_appeals", "12345", str(path), stdout=out)
    assert "该文件已导入" in out.getvalue() and "总行数 8，新增 2，已存在 0，拒绝 6" in out.getvalue()
    path.write_bytes(csv_bytes(GOOD + BAD) + b"\r\n")  # the same rows exported again
    out = io.StringIO()
    call_command("import_appeals", "12345", str(path), stdout=out)
    assert "总行数 8，新增 0，已存在 2，拒绝 6" in out.getvalue()


def test_it_refuses_an_unknown_source_on_the_command_line(sources, city, tmp_path):
    from django.core.management import CommandError

    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(GOOD))
    with pytest.raises(CommandError, match="没有代码为"):
        call_command("import_appeals", "service-records", str(path))


DATE_VARIANTS = [
    "2026-11-20 08:12",
    "2026/1/5 8:02:03",
    "2026.01.05 08:02",
    "2026-11-20T09:40:00+08:00",
    "2026-11-20T09:40:00.123+08:00",
    "2026-11-20T09:40:00Z",
    "2026-11-20 09:40 +0530",
    "2026-11-20 09:40-03",
    "2026-11-20",
    "2024-02-29 12:00",
    "2026-02-29 12:00",
    "2026-13-01",
    "2026-11-20 24:00",
    "2026-11-20 09:60",
    "2026-11-20 09:40+15:00",
    "2026-11-20+08:00",
    "1899-12-31",
    "20/11/2026",
    "2026-11-20 9点",
]


def test_it_reads_dates_the_same_way_in_sql_and_in_python(sources, city):
    rows = [[f"D-{i}", text, "某", "", "内容", "", "", ""] for i, text in enumerate(DATE_VARIANTS)]
    results = {}
    for method in ("copy", "orm"):
        batch = do_import(sources["12345"], csv_bytes(rows), method=method)
        stored = dict(Appeal.objects.filter(channel="12345").values_list("external_id", "received_at"))
        rejected = set(ImportRowError.objects.filter(batch=batch).values_list("row_number", flat=True))
        results[method] = (stored, rejected)
        forget_import("12345", keep=set())
    assert results["copy"] == results["orm"]
    stored, rejected = results["copy"]
    expected_ok = {f"D-{i}": parse_received_at(t) for i, t in enumerate(DATE_VARIANTS) if parse_received_at(t)}
    assert stored == expected_ok
    assert len(stored) == 10 and len(rejected) == 9


@pytest.mark.parametrize(
    "raw", ["13800001234", "19212345678", "14000000000", "10000000000", "12345678901", "1380000123", "02412345678"]
)
def test_it_normalises_phones_on_the_copy_path_exactly_as_intake_does(raw):
    from django.core.exceptions import ValidationError

    from feeds.appeal_import import _PhoneCache
    from intake.phones import mask, normalize_phone, phone_hash

    masked, _enc, hashed, error = _PhoneCache()(raw)
    try:
        e164 = normalize_phone(raw)
    except ValidationError as exc:
        assert (hashed, error) == ("", exc.messages[0])
    else:
        assert (masked, hashed, error) == (mask(e164), phone_hash(e164), "")


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_deletes_the_uploaded_file_once_the_batch_has_ended(sources, city, settings, method):
    from pathlib import Path

    batch = do_import(sources["12345"], csv_bytes(GOOD), method=method)
    assert batch.status == BatchStatus.DONE
    assert not batch.file
    stored = list(Path(settings.MEDIA_ROOT).rglob("*.csv"))
    assert stored == []


@pytest.mark.django_db(transaction=True)
def test_it_leaves_alone_a_batch_that_a_live_worker_holds(sources, city):
    import threading

    from django.db import connection, transaction

    # Queued as an upload is (its task message goes to the broker; no worker runs in tests).
    batch = start_import(
        kind=FeedKind.APPEALS,
        source=sources["12345"],
        upload=SimpleUploadedFile("a.csv", csv_bytes(GOOD)),
        actor=None,
    )
    holding, release = threading.Event(), threading.Event()

    def live_worker():
        with transaction.atomic():
            ImportBatch.objects.select_for_update().get(pk=batch.pk)
            holding.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=live_worker)
    worker.start()
    assert holding.wait(10)
    try:
        assert run_import_batch(batch.pk) is None  # skipped, not blocked
    finally:
        release.set()
        worker.join()
    assert run_import_batch(batch.pk).status == BatchStatus.DONE
    assert Appeal.objects.count() == 2


# --- A rejected duplicate row next to a repeat of an earlier appeal -----------------------------

REPRO_TEXT = "小区门口夜间施工噪音扰民请处理"


@pytest.mark.parametrize("method", ["orm", "copy"])
def test_it_imports_a_file_that_repeats_an_external_id_of_a_caller_with_a_similar_appeal(
    sources, city, tmp_path, method
):
    """The second REPRO-2 row is rejected; the first is a repeat of REPRO-1. On the COPY path the
    repeat's timeline row must come from the accepted row only (the rejected one has no note)."""
    first = tmp_path / "first.csv"
    first.write_bytes(csv_bytes([["REPRO-1", "2026-11-20 08:00", "王某", "13800001111", REPRO_TEXT, "", "", ""]]))
    second = tmp_path / "second.csv"
    row = ["REPRO-2", "2026-11-20 09:00", "王某", "13800001111", REPRO_TEXT + "。", "", "", ""]
    second.write_bytes(csv_bytes([row, row]))
    call_command("import_appeals", "12345", str(first), "--method", method, stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_appeals", "12345", str(second), "--method", method, stdout=out)
    assert f"已完成（{method}）" in out.getvalue()
    assert "总行数 2，新增 1，已存在 0，拒绝 1" in out.getvalue()
    assert "第 3 行\t来源编号\t与第 2 行的来源编号重复。" in out.getvalue()
    repeat = Appeal.objects.get(external_id="REPRO-2")
    assert repeat.is_repeat and repeat.repeat_of.external_id == "REPRO-1"
    events = list(repeat.events.order_by("id").values_list("action", flat=True))
    assert events == ["received", "repeat_detected"]


def forget_import(channel: str, keep: set[str]) -> None:
    """Remove what an import made (its appeals and batches) so the same file can run again."""
    Appeal.objects.filter(channel=channel).exclude(external_id__in=keep).delete()
    ImportBatch.objects.all().delete()


def test_both_paths_give_the_same_outcome_for_a_mixed_file(sources, city, center):
    """Duplicates inside the file, duplicates of stored appeals, bad phones and dates, repeats of a
    caller's stored appeal and of an earlier row, a repeated id next to a repeat, risk words:
    COPY and row by row must create the same appeals (repeat flags, links, timeline) and reject
    the same rows with the same messages."""
    from feeds.services import receive_appeal
    from intake.services import create_appeal

    RiskWord.objects.create(word="同归于尽")
    create_appeal(
        channel="hotline",
        citizen_phone="13800001203",
        content="楼下烧烤店每天营业到凌晨两点，油烟和噪音扰民严重",
        received_at=parse_received_at("2026-11-18 22:00"),
    )
    receive_appeal(
        source=sources["12345"],
        data={"external_id": "M-OLD", "received_at": parse_received_at("2026-11-19 10:00"), "content": "早先推送"},
    )
    bbq = "楼下烧烤店营业到凌晨两点，噪音扰民严重"
    bike = "小区电动车充电桩旁边经常有人偷电瓶"
    rows = [
        ["M-1", "2026-11-20 08:00", "王一", "13800001301", "门口乱停车。", "", "违章停车", "否"],  # 2
        ["M-2", "2026-11-20 08:01", "王二", "138000013", "电话写错了。", "", "", ""],  # 3 bad phone
        ["M-3", "2026-02-30 10:00", "王三", "", "日期不存在。", "", "", ""],  # 4 bad date
        ["M-1", "2026-11-20 08:03", "王一", "13800001301", "编号重复。", "", "", ""],  # 5 repeat in file
        ["M-OLD", "2026-11-20 08:04", "王四", "", "已经推送过。", "", "", ""],  # 6 already present
        ["M-4", "2026-11-20 08:05", "赵六", "13800001203", bbq, "", "", ""],  # 7 repeat of stored
        ["M-4", "2026-11-20 08:06", "赵六", "13800001203", bbq, "", "", ""],  # 8 its id again
        ["M-5", "2026-11-20 09:00", "钱七", "13800001204", bike, "", "", ""],  # 9
        ["M-6", "2026-11-20 10:00", "钱七", "13800001204", bike + "了", "", "", "是"],  # 10 repeat of row 9
        ["M-6", "2026-11-20 10:01", "钱七", "13800001204", bike + "了", "", "", ""],  # 11 its id again
        ["M-2", "2026-11-20 10:02", "王二", "13800001302", "第一次电话写错，这次对了。", "", "", ""],  # 12
        ["M-7", "2026-11-20 10:03", "孙八", "13800001305", "再不处理就同归于尽。", "", "", ""],  # 13 risk
        ["M-8", "2099-01-01 00:00", "孙九", "", "来自未来。", "", "", ""],  # 14 future
        ["M-9", "2026-11-20 10:05", "孙十", "", "", "", "", "也许"],  # 15 two errors
        ["M-10", "1999-12-31 23:59", "周一", "", "年份写成了上个世纪。", "", "", ""],  # 16 too early
    ]
    outcomes = {}
    for method in ("copy", "orm"):
        batch = do_import(sources["12345"], csv_bytes(rows), method=method, actor=center)
        assert (batch.status, batch.method) == (BatchStatus.DONE, method)
        imported = Appeal.objects.filter(channel="12345").exclude(external_id="M-OLD").select_related("repeat_of")
        outcomes[method] = {
            "counts": (batch.total_rows, batch.created, batch.duplicates, batch.rejected),
            "report": report(batch),
            "appeals": {a.external_id: shape(a) for a in imported},
        }
        forget_import("12345", keep={"M-OLD"})
    assert outcomes["copy"] == outcomes["orm"]
    result = outcomes["copy"]
    assert result["counts"] == (15, 6, 1, 8)
    assert [(n, f) for n, f, _r in result["report"]] == [
        (3, "联系电话"),
        (4, "受理时间"),
        (5, "来源编号"),
        (8, "来源编号"),
        (11, "来源编号"),
        (14, "受理时间"),
        (15, "涉企"),
        (15, "诉求内容"),
        (16, "受理时间"),
    ]
    assert "2000年1月1日" in result["report"][-1][2]
    appeals = result["appeals"]
    assert sorted(appeals) == ["M-1", "M-2", "M-4", "M-5", "M-6", "M-7"]
    assert appeals["M-4"]["is_repeat"] and [e[0] for e in appeals["M-4"]["events"]] == ["received", "repeat_detected"]
    assert appeals["M-6"]["repeat_of"] == "M-5"
    assert [e[0] for e in appeals["M-6"]["events"]] == ["received", "repeat_detected"]
    assert [e[0] for e in appeals["M-7"]["events"]] == ["received", "risk_alert"]
    assert not appeals["M-5"]["is_repeat"]
