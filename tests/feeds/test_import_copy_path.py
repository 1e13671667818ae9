"""The COPY path at province scale: a row already received is recognised by its external id
before anything is encrypted, numbers are encrypted in batches into ordinary Fernet tokens, and
the file is read a chunk at a time (the counts come out the same across chunk boundaries)."""

from __future__ import annotations

import io
import random

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError

import feeds.appeal_import as appeal_import
from feeds.appeal_import import _fast_mobile, _tracking_codes, parse_received_at
from feeds.models import ImportBatch
from intake.models import TRACKING_ALPHABET, Appeal
from intake.phones import decrypt, encrypt_many, normalize_phone

from .test_imports import csv_bytes, do_import, report


def rows(first: int, last: int, *, prefix: str = "CP") -> list[list[str]]:
    return [
        [
            f"{prefix}-{i:03d}",
            "2026-11-20 08:12",
            "王建国",
            f"1380000{i:04d}",
            f"第{i}号楼下夜间施工噪音扰民。",
            "滨江路88号",
            "噪音扰民",
            "否",
        ]
        for i in range(first, last)
    ]


@pytest.fixture
def encrypted(monkeypatch) -> list[str]:
    """Every number the import encrypts (calling through to the real encryption)."""
    seen: list[str] = []
    real_many = appeal_import.encrypt_many

    def counting_many(values):
        seen.extend(values)
        return real_many(values)

    monkeypatch.setattr(appeal_import, "encrypt_many", counting_many)
    if hasattr(appeal_import, "encrypt"):  # a per-row encryption would count here
        real_one = appeal_import.encrypt

        def counting_one(value):
            seen.append(value)
            return real_one(value)

        monkeypatch.setattr(appeal_import, "encrypt", counting_one)
    return seen


def test_it_encrypts_only_the_numbers_of_rows_it_inserts(sources, city, encrypted):
    first = do_import(sources["12345"], csv_bytes(rows(0, 20)), method="copy", name="a.csv")
    assert (first.created, first.duplicates) == (20, 0)
    assert len(encrypted) == 20
    encrypted.clear()
    # The same 20 rows again plus 5 new ones: only the 5 new numbers are encrypted.
    again = do_import(sources["12345"], csv_bytes(rows(0, 25)), method="copy", name="b.csv")
    assert (again.created, again.duplicates, again.rejected) == (5, 20, 0)
    assert sorted(encrypted) == [f"+861380000{i:04d}" for i in range(20, 25)]
    stored = Appeal.objects.get(channel="12345", external_id="CP-022")
    assert stored.citizen_phone == "+8613800000022"


def test_it_reads_the_file_a_chunk_at_a_time_with_the_same_outcome(sources, city, monkeypatch, encrypted):
    monkeypatch.setattr(appeal_import, "CHUNK_ROWS", 3)
    do_import(sources["12345"], csv_bytes(rows(0, 4)), method="copy", name="a.csv")
    encrypted.clear()
    body = rows(0, 10)
    body.insert(7, ["CP-005", "2026-11-20 09:00", "李四", "13800009999", "同一编号再出现一次。", "", "", ""])
    body.insert(2, ["CP-BAD", "2026-02-30 10:00", "陈静", "13800008888", "日期不存在的一行。", "", "", ""])
    batch = do_import(sources["12345"], csv_bytes(body), method="copy", name="b.csv")
    assert (batch.total_rows, batch.created, batch.duplicates, batch.rejected) == (12, 6, 4, 2)
    assert [(n, field) for n, field, _reason in report(batch)] == [(4, "受理时间"), (10, "来源编号")]
    assert Appeal.objects.filter(channel="12345", external_id__startswith="CP-").count() == 10
    # The rejected rows' numbers may be encrypted (they are refused later, in SQL), never the known ones.
    assert not {f"+861380000{i:04d}" for i in range(4)} & set(encrypted)


def test_batch_encryption_gives_fernet_tokens_the_keys_decrypt(settings):
    values = ["+8613800001234", "+8613800001234", "+862412345678", "+1234567890123456", ""]
    tokens = encrypt_many(values)
    assert [decrypt(t) for t in tokens] == values
    assert tokens[0] != tokens[1]  # a fresh IV per value, as Fernet does
    fernet = Fernet(settings.PHONE_ENCRYPTION_KEYS[0].encode())
    assert fernet.decrypt(tokens[2].encode()) == b"+862412345678"


def test_the_fast_mobile_check_agrees_with_normalize_phone():
    rng = random.Random(9)
    prefixes = [f"1{d}" for d in range(10)] + ["140", "144", "146", "148", "149", "154", "162", "165", "170", "174"]
    samples = [
        (p + "".join(rng.choice("0123456789") for _ in range(11 - len(p)))) for p in prefixes for _ in range(300)
    ]
    for raw in samples:
        fast = _fast_mobile(raw)
        try:
            full = normalize_phone(raw)
        except ValidationError:
            full = None
        assert fast is None or fast == full, raw
    assert sum(_fast_mobile(raw) is not None for raw in samples) > len(samples) / 3
    assert _fast_mobile("１３８００００１２３４") is None  # full-width digits go the full way


def test_tracking_codes_are_drawn_from_the_alphabet():
    codes = _tracking_codes(5000)
    assert len(codes) == 5000 and len(set(codes)) == 5000
    assert all(len(c) == 8 and set(c) <= set(TRACKING_ALPHABET) for c in codes)
    letters = "".join(codes)
    counts = [letters.count(ch) for ch in TRACKING_ALPHABET]
    assert max(counts) < 1.3 * min(counts)


class RecordingFile(io.BytesIO):
    """A file that remembers the largest read asked of it (-1: the whole file)."""

    largest = 0

    def read(self, size=-1):
        self.largest = -1 if size is None or size < 0 or self.largest < 0 else max(self.largest, size)
        return super().read(size)


def test_a_csv_file_is_read_in_pieces_never_whole(monkeypatch):
    import units.tabular as tabular

    monkeypatch.setattr(tabular, "READ_CHUNK", 64)
    body = csv_bytes(rows(0, 50))
    for reader in (
        lambda f: list(tabular.read_rows(f, filename="a.csv")),
        lambda f: tabular.estimate_rows(f, filename="a.csv"),
    ):
        fh = RecordingFile(body)
        reader(fh)
        assert 0 < fh.largest <= 64
    fh = RecordingFile(body)
    assert [n for n, _row in tabular.read_rows(fh, filename="a.csv")] == list(range(2, 52))
    assert tabular.estimate_rows(RecordingFile(body), filename="a.csv") == 50


def test_a_batch_lock_held_in_another_database_is_not_this_batchs(db, settings):
    """Advisory locks are per database, pg_locks lists the server's: a runner of batch N in
    another database (a parallel test run, another deployment) must not look like ours."""
    import psycopg
    from django.db import connection

    from feeds.services import RUNNING_BATCH_LOCK, import_lock_is_held

    params = {**connection.get_connection_params(), "dbname": "postgres", "autocommit": True}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [RUNNING_BATCH_LOCK, 424242])
        assert import_lock_is_held(424242) is False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [RUNNING_BATCH_LOCK, 424242])
    try:
        assert import_lock_is_held(424242) is True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUNNING_BATCH_LOCK, 424242])


def test_repeats_signals_and_alerts_go_in_chunks_with_the_outcome_of_the_row_by_row_path(
    sources, city, center, monkeypatch, django_capture_on_commit_callbacks
):
    """Repeat candidates streamed one row a fetch, links written one at a time, ids handed to the
    signal's receivers and risk alerts two at a time: the same appeals, links, notes and timeline
    as row by row, every inserted id told once, every risky appeal alerted. Callers interleave in
    the file, and a link follows the chain to the original (a stored repeat, an earlier row)."""
    from analytics.models import AggregateMark
    from intake.models import RiskWord
    from intake.services import create_appeal
    from intake.signals import appeals_written
    from units.models import Notification

    from .test_imports import shape

    monkeypatch.setattr(appeal_import, "REPEAT_FETCH_ROWS", 1)
    monkeypatch.setattr(appeal_import, "REPEAT_FLUSH_ROWS", 1)
    monkeypatch.setattr(appeal_import, "SIGNAL_IDS", 2)
    RiskWord.objects.create(word="同归于尽")
    bbq = "楼下烧烤店每天营业到凌晨两点，油烟和噪音扰民严重"
    original, _ = create_appeal(
        channel="hotline", citizen_phone="13800001403", content=bbq, received_at=parse_received_at("2026-11-17 22:00")
    )
    stored_repeat, _ = create_appeal(
        channel="hotline",
        citizen_phone="13800001403",
        content=bbq + "。",
        received_at=parse_received_at("2026-11-18 22:00"),
    )
    assert stored_repeat.repeat_of_id == original.pk
    bike = "小区电动车充电桩旁边经常有人偷电瓶"
    body = [
        ["K-1", "2026-11-18 09:00", "钱七", "13800001404", bike, "", "", ""],
        ["K-2", "2026-11-20 08:00", "赵六", "13800001403", bbq + "了", "", "", ""],  # → the stored original
        ["K-3", "2026-11-19 10:00", "钱七", "13800001404", bike + "了", "", "", ""],  # → K-1
        ["K-4", "2026-11-20 08:30", "孙八", "13800001405", "再不处理就同归于尽。", "", "", ""],
        ["K-5", "2026-11-20 11:00", "钱七", "13800001404", bike + "啊", "", "", ""],  # → K-3 → K-1
        ["K-6", "2026-11-20 12:00", "赵六", "13800001403", bbq + "啊", "", "", ""],  # → the original again
        ["K-7", "2026-11-20 12:30", "孙八", "13800001405", "我真的要同归于尽。", "", "", ""],
        ["K-8", "2026-11-19 12:40", "周一", "13800001406", "同归于尽的话不是说说。", "", "", ""],
    ]
    told: list[list[int]] = []

    def listen(sender, appeal_ids, **kwargs):
        told.append(list(appeal_ids))

    appeals_written.connect(listen, dispatch_uid="test-told-in-chunks")
    outcomes = {}
    try:
        for method in ("copy", "orm"):
            told.clear()
            AggregateMark.objects.all().delete()
            with django_capture_on_commit_callbacks(execute=True):
                batch = do_import(sources["12345"], csv_bytes(body), method=method, actor=center, name=f"{method}.csv")
            assert (batch.method, batch.created, batch.rejected) == (method, 8, 0)
            imported = {a.external_id: a for a in Appeal.objects.filter(channel="12345").select_related("repeat_of")}
            risky = [a.pk for a in imported.values() if a.risk_words]
            assert len(risky) == 3
            assert (
                Notification.objects.filter(user=center, dedupe_key__in=[f"intake-risk-{pk}" for pk in risky]).count()
                == 3
            )
            for appeal in imported.values():  # a note names the appeal the link points at
                note = appeal.events.filter(action="repeat_detected").values_list("note", flat=True).first()
                assert (note is None) == (appeal.repeat_of is None)
                if appeal.repeat_of is not None:
                    assert note.startswith(f"与 {appeal.repeat_of.tracking_code} 相似度")
            assert imported["K-2"].repeat_of_id == imported["K-6"].repeat_of_id == original.pk
            if method == "copy":
                assert all(len(chunk) <= 2 for chunk in told) and len(told) == 4
                assert sorted(pk for chunk in told for pk in chunk) == sorted(a.pk for a in imported.values())
                days = set(AggregateMark.objects.filter(unit=None).values_list("day", flat=True))
                assert {str(d) for d in days} >= {"2026-11-18", "2026-11-19", "2026-11-20"}
            outcomes[method] = {k: shape(a) for k, a in imported.items()}
            Appeal.objects.filter(channel="12345").delete()
            ImportBatch.objects.all().delete()
    finally:
        appeals_written.disconnect(dispatch_uid="test-told-in-chunks")
    assert outcomes["copy"] == outcomes["orm"]
    links = {k: v["repeat_of"] for k, v in outcomes["copy"].items()}
    assert links["K-3"] == links["K-5"] == "K-1"
    assert outcomes["copy"]["K-2"]["is_repeat"] and outcomes["copy"]["K-6"]["is_repeat"]
