"""Importing appeals from a file: the row rules, the row-by-row path and the COPY path.

Both paths apply the same rules with the same messages and give the same report:

* 来源编号, 受理时间 and 诉求内容 are required; 受理时间 is a date and time (``2026-05-20 14:30``,
  ``2026/5/20 14:30:00`` or ISO 8601 with an offset; without an offset it is Beijing time) and not
  in the future; 联系电话, when given, is a valid number; 涉企 is 是/否 (or 1/0, true/false);
* 诉求内容, 诉求人, 地址 and 分类 are within intake's field limits (``intake/limits.py``);
* a 来源编号 repeated in the file is rejected on every row after the first good one;
* a 来源编号 already received on that channel is a duplicate: counted, not created again.

The row-by-row path calls ``intake.services.create_appeal`` for each good row (SQLite, small
files). The COPY path (PostgreSQL, large files) computes per row, while reading, what is cheaper
in Python than in SQL (phone normalisation and keyed hash, dates, 涉企, risk words, tracking codes;
encryption only for the rows to be inserted), COPYs the rows into a staging table, applies the
rules set-wise in SQL and inserts the good ones with ``INSERT … ON CONFLICT DO NOTHING`` plus
their timeline rows, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumbers import PhoneMetadata

from intake.choices import AppealStatus, Channel, Kind, Severity
from intake.limits import APPEAL_FIELD_LIMITS, too_long_message
from intake.models import TRACKING_ALPHABET, Appeal, new_tracking_code
from intake.phones import encrypt_many, mask, normalize_phone, phone_hash
from intake.signals import appeals_written
from intake.validators import EARLIEST_RECEIVED_AT, RECEIVED_AT_FUTURE_TOLERANCE
from units.tabular import ImportFileError, missing_columns

from .imports import APPEAL_FIELD_LABELS, ImportOutcome, RowError
from .models import ImportBatch

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("external_id", "received_at", "content")
FIELDS = ("external_id", "received_at", "citizen_name", "citizen_phone", "content", "address", "category_hint")
TRUE_WORDS = ("是", "1", "true", "yes", "y", "涉企")
FALSE_WORDS = ("", "否", "0", "false", "no", "n", "非涉企")
# The plausibility window of every entry (intake.validators): not before 2000, not in the future.
FUTURE_TOLERANCE = RECEIVED_AT_FUTURE_TOLERANCE
# Text columns refused above their limit (intake/limits.py); the external id has its own rule.
LENGTH_CHECKED = ("content", "citizen_name", "address", "category_hint")

# 受理时间 as a file may write it (parse_received_at).
DATETIME_PATTERN = (
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?: ?(Z|[+-]\d{2}(?::?\d{2})?))?)?$"
)
_DATETIME_RE = re.compile(DATETIME_PATTERN)


def label(field: str) -> str:
    return APPEAL_FIELD_LABELS.get(field, field)


def messages() -> dict[str, str]:
    """The row rules' messages (translated once per import, used by both paths)."""
    return {
        "external_id_required": _("来源编号不能为空。"),
        "external_id_long": _("来源编号不能超过64个字符。"),
        "received_required": _("受理时间不能为空。"),
        "received_invalid": _("受理时间格式不正确，应为“2026-05-20 14:30”或带时区的 ISO 8601 时间。"),
        "received_future": _("受理时间晚于当前时间。"),
        "received_early": _("受理时间不能早于2000年1月1日，请检查年份。"),
        "content_required": _("诉求内容不能为空。"),
        # The limits of intake/limits.py, the same for a push, the API and the staff form.
        **{f"{field}_long": str(too_long_message(field)) for field in LENGTH_CHECKED},
        "enterprise_invalid": _("涉企只能填写“是”或“否”。"),
        "duplicate_in_file": _("与第 %(row)s 行的来源编号重复。"),
    }


def parse_received_at(text: str) -> dt.datetime | None:
    """The aware datetime written in ``text`` (see DATETIME_PATTERN), or None when it is not one."""
    match = _DATETIME_RE.match((text or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    if not 1900 <= int(year) <= 2999:
        return None
    try:
        naive = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if not offset:
        return naive.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    if offset == "Z":
        return naive.replace(tzinfo=dt.UTC)
    digits = offset[1:].replace(":", "")
    if int(digits[:2]) > 14 or int(digits[2:4] or 0) > 59:
        return None
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return naive.replace(tzinfo=dt.timezone(delta if offset[0] == "+" else -delta))


def parse_enterprise(text: str) -> bool | None:
    value = (text or "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return None


def masked_raw_phone(raw: str) -> str:
    """What a report may show of a number: masked when valid, mostly hidden when not."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        return mask(normalize_phone(raw))
    except ValidationError:
        return f"{raw[:3]}****{raw[-2:]}" if len(raw) > 6 else "****"


def report_raw(row: dict[str, str]) -> dict[str, str]:
    """The row as kept in the error report, under Chinese labels, without a readable phone."""
    raw = {label(k): v for k, v in row.items() if k in APPEAL_FIELD_LABELS or k == "is_enterprise"}
    if "citizen_phone" in row:
        raw[label("citizen_phone")] = masked_raw_phone(row["citizen_phone"])
    return raw


def check_row(row: dict[str, str], *, now: dt.datetime, msgs: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
    """The cleaned values of a row and its errors as (field, reason); the phone is checked here too."""
    errors: list[tuple[str, str]] = []
    external_id = (row.get("external_id") or "").strip()
    if not external_id:
        errors.append(("external_id", msgs["external_id_required"]))
    elif len(external_id) > 64:
        errors.append(("external_id", msgs["external_id_long"]))
    received_text = (row.get("received_at") or "").strip()
    received_at = parse_received_at(received_text)
    if not received_text:
        errors.append(("received_at", msgs["received_required"]))
    elif received_at is None:
        errors.append(("received_at", msgs["received_invalid"]))
    elif received_at > now + FUTURE_TOLERANCE:
        errors.append(("received_at", msgs["received_future"]))
    elif received_at < EARLIEST_RECEIVED_AT:
        errors.append(("received_at", msgs["received_early"]))
    content = (row.get("content") or "").strip()
    if not content:
        errors.append(("content", msgs["content_required"]))
    for field in LENGTH_CHECKED:
        if len((row.get(field) or "").strip()) > APPEAL_FIELD_LIMITS[field]:
            errors.append((field, msgs[f"{field}_long"]))
    phone = (row.get("citizen_phone") or "").strip()
    if phone:
        try:
            normalize_phone(phone)
        except ValidationError as exc:
            errors.append(("citizen_phone", exc.messages[0]))
    is_enterprise = parse_enterprise(row.get("is_enterprise", ""))
    if is_enterprise is None:
        errors.append(("is_enterprise", msgs["enterprise_invalid"]))
    data = {
        "external_id": external_id,
        "received_at": received_at,
        "citizen_name": (row.get("citizen_name") or "").strip(),
        "citizen_phone": phone,
        "content": content,
        "address": (row.get("address") or "").strip(),
        "category_hint": (row.get("category_hint") or "").strip(),
        "is_enterprise": bool(is_enterprise),
    }
    return data, errors


def import_appeal_rows(
    batch: ImportBatch,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    progress: Callable[[int], None],
    estimated_rows: int = 0,
    method: str | None = None,
) -> ImportOutcome:
    """The import handler for appeals: picks the path, runs it inside the caller's transaction."""
    if batch.source is None or not batch.source.channel:
        raise ImportFileError(_("该数据来源未设置对应渠道，不能导入诉求。"))
    rows = iter(rows)
    first = list(itertools.islice(rows, 1))
    if not first:
        return ImportOutcome(method="orm")
    missing = missing_columns(first[0][1], REQUIRED_COLUMNS)
    if missing:
        raise ImportFileError(_("缺少必需的列：%(cols)s。") % {"cols": "、".join(label(c) for c in missing)})
    threshold = settings.FEED_IMPORT_COPY_MIN_ROWS
    head = first + list(itertools.islice(rows, threshold))
    all_rows = itertools.chain(head, rows)
    if method is None:
        method = "copy" if settings.IS_POSTGRES and len(head) > threshold else "orm"
    elif method == "copy" and not settings.IS_POSTGRES:
        method = "orm"  # COPY and the staging SQL are PostgreSQL's; SQLite always goes row by row
    if method == "copy":
        return _import_by_copy(batch, all_rows, progress=progress, estimated_rows=max(estimated_rows, len(head)))
    return _import_row_by_row(batch, all_rows, progress=progress, estimated_rows=max(estimated_rows, len(head)))


def _every(n: int, estimated_rows: int, progress: Callable[[int], None], share: int) -> Callable[[int], None]:
    def tick(done: int) -> None:
        if done % n == 0 and estimated_rows:
            progress(min(share, int(done * share / estimated_rows)))

    return tick


def _import_row_by_row(
    batch: ImportBatch, rows: Iterator[tuple[int, dict[str, str]]], *, progress, estimated_rows: int
) -> ImportOutcome:
    """One ``create_appeal`` per good row: the same code path as a push."""
    from intake.services import create_appeal

    msgs = messages()
    now = timezone.now()
    outcome = ImportOutcome(method="orm")
    seen: dict[str, int] = {}
    tick = _every(50, estimated_rows, progress, 99)
    for number, row in rows:
        outcome.total_rows += 1
        tick(outcome.total_rows)
        data, errors = check_row(row, now=now, msgs=msgs)
        if not errors and data["external_id"] in seen:
            errors.append(("external_id", msgs["duplicate_in_file"] % {"row": seen[data["external_id"]]}))
        if errors:
            raw = report_raw(row)
            outcome.errors.extend(RowError(number, label(f), reason, raw) for f, reason in errors)
            continue
        seen[data["external_id"]] = number
        try:
            with transaction.atomic():
                _appeal, created = create_appeal(channel=batch.source.channel, actor=batch.uploaded_by, **data)
        except ValidationError as exc:
            raw = report_raw(row)
            for field, reasons in exc.message_dict.items():
                outcome.errors.extend(RowError(number, label(field), reason, raw) for reason in reasons)
            continue
        if created:
            outcome.created += 1
        else:
            outcome.duplicates += 1
    return outcome


# --- The COPY path ----------------------------------------------------------------------------

STAGE_COLUMNS = (
    "row_number",
    "external_id",
    "received_raw",
    "citizen_name",
    "phone_masked",
    "phone_enc",
    "phone_hash",
    "phone_error",
    "content",
    "address",
    "category_hint",
    "enterprise_raw",
    "tracking_code",
    "known",
    "received_at",
    "is_enterprise",
    "risk_words",
)
# Rows read, checked against the stored external ids, encrypted and copied at a time: memory
# stays bounded whatever the file's size.
CHUNK_ROWS = 10_000
# Distinct numbers remembered per file (normalised, and encrypted): the callers who come back
# within a file, not the file's every number, so memory stays small for a million rows.
PHONE_CACHE_SIZE = 20_000
# Repeat detection streams the candidate rows (REPEAT_FETCH_ROWS a fetch) and writes the links it
# finds REPEAT_FLUSH_ROWS at a time; the inserted ids reach the signals' receivers and the risk
# alerts SIGNAL_IDS at a time. None of the three grows with the file.
REPEAT_FETCH_ROWS = 2_000
REPEAT_FLUSH_ROWS = 5_000
SIGNAL_IDS = 10_000


# Eleven digits matching the metadata's mainland mobile pattern (and the general one) are a valid
# number for ``phonenumbers.is_valid_number``: no other kind of CN number has eleven digits
# starting with 1. Anything the patterns do not take goes the full way.
_CN = PhoneMetadata.metadata_for_region("CN")
_CN_MOBILE = re.compile(f"(?:{_CN.mobile.national_number_pattern})")
_CN_GENERAL = re.compile(f"(?:{_CN.general_desc.national_number_pattern})")


def _fast_mobile(raw: str) -> str | None:
    """``normalize_phone`` for the common case, eleven plain digits of a valid mainland mobile,
    without the text parsing and number typing (a tenth of its cost); anything else goes the
    full way."""
    if len(raw) == 11 and raw[0] == "1" and raw.isascii() and raw.isdigit():
        if _CN_MOBILE.fullmatch(raw) and _CN_GENERAL.fullmatch(raw):
            return "+86" + raw
    return None


def _fast_mask(e164: str) -> str:
    """``mask`` without re-parsing the number for the common case, a mainland mobile."""
    if len(e164) == 14 and e164.startswith("+861"):
        return f"{e164[3:6]}****{e164[-4:]}"
    return mask(e164)


class _PhoneCache:
    """Normalise, hash and mask each distinct number once per file: (masked, E.164, hash, error).

    Encryption is apart (``_Ciphertexts``): only the rows that will be inserted need it.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, str, str, str]] = {}

    def __call__(self, raw: str) -> tuple[str, str, str, str]:
        raw = (raw or "").strip()
        if not raw:
            return "", "", "", ""
        hit = self._cache.get(raw)
        if hit is None:
            try:
                e164 = _fast_mobile(raw) or normalize_phone(raw)
            except ValidationError as exc:
                hit = (masked_raw_phone(raw), "", "", exc.messages[0])
            else:
                hit = (_fast_mask(e164), e164, phone_hash(e164), "")
            if len(self._cache) < PHONE_CACHE_SIZE:
                self._cache[raw] = hit
        return hit


class _Ciphertexts:
    """The ciphertext of each number to be stored, encrypted in batches (``encrypt_many``) and
    kept for the numbers that come back later in the file."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def encrypt(self, numbers: Iterable[str]) -> dict[str, str]:
        wanted = set(numbers)
        missing = [n for n in wanted if n not in self._cache]
        fresh = dict(zip(missing, encrypt_many(missing), strict=True))
        found = {n: self._cache.get(n) or fresh[n] for n in wanted}
        room = PHONE_CACHE_SIZE - len(self._cache)
        if room > 0:
            self._cache.update(itertools.islice(fresh.items(), room))
        return found


def _tracking_codes(count: int) -> list[str]:
    """``count`` tracking codes drawn as ``new_tracking_code`` draws one (uniformly over its
    alphabet, from the operating system's random source), from one random buffer per batch
    rather than one system call per character."""
    size = len(TRACKING_ALPHABET)
    limit = 256 - 256 % size  # bytes at or above it are dropped: every letter stays equally likely
    table = bytes(TRACKING_ALPHABET[b % size].encode()[0] if b < limit else 0 for b in range(256))
    drop = bytes(range(limit, 256))
    letters = b""
    while len(letters) < 8 * count:
        letters += os.urandom((8 * count - len(letters)) * 2 + 16).translate(table, drop)
    text = letters.decode()
    return [text[8 * i : 8 * i + 8] for i in range(count)]


def _already_received(cursor, *, channel: str, external_ids: list[str]) -> set[str]:
    """The external ids of this channel already stored (by the unique index), before any
    encryption: a row that will not be inserted is never encrypted."""
    wanted = [e for e in set(external_ids) if e]
    if not wanted:
        return set()
    cursor.execute(
        "SELECT external_id FROM intake_appeal WHERE channel = %s AND external_id = ANY(%s)", [channel, wanted]
    )
    return {r[0] for r in cursor.fetchall()}


def _stage_name(batch: ImportBatch) -> str:
    return f"feeds_stage_{int(batch.pk)}"


def _import_by_copy(
    batch: ImportBatch, rows: Iterator[tuple[int, dict[str, str]]], *, progress, estimated_rows: int
) -> ImportOutcome:
    """COPY into a temporary table, validate set-wise, insert with ON CONFLICT DO NOTHING.

    1. create ``feeds_stage_<batch>`` (unlogged, dropped before commit) and COPY every row into it,
       ``CHUNK_ROWS`` at a time, with phone hash/mask and a tracking code computed in Python; the
       chunk's external ids already stored on the channel are looked up first (``known``: a
       duplicate, never inserted), so only the numbers of rows to be inserted are encrypted, a
       chunk at a time (``encrypt_many``); dates, 涉企 and risk words are computed by the
       functions the row-by-row path uses;
    2. in SQL: write one ImportRowError per broken rule, mark those rows bad, then reject later
       rows repeating an external id of the file;
    3. map the distinct category hints (few) with intake's own rule, make tracking codes unique,
       link repeats of the same caller;
    4. insert the good rows not already received into intake_appeal with ON CONFLICT (channel,
       external_id) DO NOTHING, the category's default severity applied in the same SELECT; the
       rows that were not inserted were already received: duplicates. The timeline rows
       (received, repeat, risk) are inserted set-wise for the inserted ids.
    """
    msgs = messages()
    stage = _stage_name(batch)
    source = batch.source
    phones = _PhoneCache()
    ciphers = _Ciphertexts()
    from intake.services import active_risk_words

    risk_words = [w for w in active_risk_words() if w]
    total = 0
    tick = _every(2000, estimated_rows, progress, 70)
    phases: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - clock[0], 3)
        clock[0] = now

    with connection.cursor() as cursor:
        # Sorts and hashes over 100,000 rows stay in memory for this transaction only.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        # Unlogged (no WAL, shared buffers); created inside the import's transaction, so a worker
        # that dies takes it away with the rollback.
        cursor.execute(
            f"""CREATE UNLOGGED TABLE {stage} (
                row_number integer PRIMARY KEY, external_id text, received_raw text, citizen_name text,
                phone_masked text, phone_enc text, phone_hash text, phone_error text, content text,
                address text, category_hint text, enterprise_raw text, tracking_code text,
                known boolean NOT NULL DEFAULT false, received_at timestamptz, is_enterprise boolean, risk_words text,
                ok boolean NOT NULL DEFAULT true, repeat_of_id bigint, repeat_of_row integer, similarity double precision, repeat_note text
            ) WITH (autovacuum_enabled = false)"""
        )
        copy_sql = f"COPY {stage} ({', '.join(STAGE_COLUMNS)}) FROM STDIN"
        while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
            staged = []
            for number, row in chunk:
                total += 1
                tick(total)
                staged.append((number, row, (row.get("external_id") or "").strip(), *phones(row.get("citizen_phone"))))
            # Already received: counted as duplicates, never encrypted (nor inserted).
            known = _already_received(cursor, channel=source.channel, external_ids=[s[2] for s in staged])
            ciphertexts = ciphers.encrypt(s[4] for s in staged if s[4] and s[2] not in known)
            codes = _tracking_codes(len(staged))
            with cursor.cursor.copy(copy_sql) as copy:
                for (number, row, external_id, masked, e164, hashed, phone_error), code in zip(
                    staged, codes, strict=True
                ):
                    is_known = external_id in known
                    received_raw = (row.get("received_at") or "").strip()
                    enterprise_raw = (row.get("is_enterprise") or "").strip()
                    content = (row.get("content") or "").strip()
                    copy.write_row(
                        (
                            number,
                            external_id,
                            received_raw,
                            (row.get("citizen_name") or "").strip(),
                            masked,
                            "" if is_known or not e164 else ciphertexts[e164],
                            hashed,
                            phone_error,
                            content,
                            (row.get("address") or "").strip(),
                            (row.get("category_hint") or "").strip(),
                            enterprise_raw,
                            code,
                            is_known,
                            # The same functions as the row-by-row path (check_row, propose_severity).
                            parse_received_at(received_raw) if received_raw else None,
                            parse_enterprise(enterprise_raw),
                            "、".join(sorted(w for w in risk_words if w in content))[:200],
                        )
                    )
            del staged, chunk
        cursor.execute(f"ANALYZE {stage}")
        lap("read_and_copy")
        progress(75)
        _validate_in_sql(cursor, stage, batch=batch, msgs=msgs)
        lap("validate")
        progress(85)
        categories = _map_category_hints(cursor, stage)
        _unique_tracking_codes(cursor, stage)
        lap("propose")
        _find_repeats(cursor, stage, channel=source.channel)
        # The links were written after the stage was analysed: without fresh figures the planner
        # takes the rows with a link for none, and joins them back row by row.
        cursor.execute(f"ANALYZE {stage}")
        lap("repeats")
        progress(90)
        created, inserted = _insert_appeals(
            cursor, stage, batch=batch, channel=source.channel, categories=categories, lap=lap
        )
        cursor.execute(f"SELECT count(*) FROM {stage} WHERE ok")
        good = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {stage}")
        lap("timeline")
    if inserted:
        _alert_later(inserted)
    logger.info("import batch %s by COPY: %s rows, phases %s", batch.pk, total, phases)
    outcome = ImportOutcome(total_rows=total, created=created, duplicates=good - created, method="copy", phases=phases)
    # outcome.errors stays empty: the rejected rows were written set-wise into feeds_importrowerror.
    return outcome


def _raw_json_sql() -> str:
    """The error report's copy of a staged row, under the Chinese column labels."""
    pairs = [
        ("external_id", "external_id"),
        ("received_at", "received_raw"),
        ("citizen_name", "citizen_name"),
        ("citizen_phone", "phone_masked"),
        ("content", "content"),
        ("address", "address"),
        ("category_hint", "category_hint"),
        ("is_enterprise", "enterprise_raw"),
    ]
    return "jsonb_build_object(" + ", ".join(f"'{label(f)}', s.{col}" for f, col in pairs) + ")"


def _validate_in_sql(cursor, stage: str, *, batch: ImportBatch, msgs: dict[str, str]) -> None:
    raw = _raw_json_sql()
    rules = [
        ("external_id", "s.external_id = ''", msgs["external_id_required"]),
        ("external_id", "length(s.external_id) > 64", msgs["external_id_long"]),
        ("received_at", "s.received_raw = ''", msgs["received_required"]),
        ("received_at", "s.received_raw <> '' AND s.received_at IS NULL", msgs["received_invalid"]),
        ("received_at", "s.received_at > %(latest)s", msgs["received_future"]),
        ("received_at", "s.received_at < %(earliest)s", msgs["received_early"]),
        ("content", "s.content = ''", msgs["content_required"]),
        *(
            (field, f"char_length(s.{field}) > {APPEAL_FIELD_LIMITS[field]:d}", msgs[f"{field}_long"])
            for field in LENGTH_CHECKED
        ),
        ("citizen_phone", "s.phone_error <> ''", None),
        ("is_enterprise", "s.is_enterprise IS NULL", msgs["enterprise_invalid"]),
    ]
    selects = []
    params: dict[str, object] = {
        "batch": batch.pk,
        "latest": timezone.now() + FUTURE_TOLERANCE,
        "earliest": EARLIEST_RECEIVED_AT,
    }
    for i, (field, condition, reason) in enumerate(rules):
        params[f"f{i}"] = label(field)
        reason_sql = "s.phone_error" if reason is None else f"%(r{i})s"
        if reason is not None:
            params[f"r{i}"] = reason
        selects.append(f"SELECT s.row_number, %(f{i})s, {reason_sql}, {raw} FROM {stage} s WHERE {condition}")
    cursor.execute(
        f"""INSERT INTO feeds_importrowerror (batch_id, row_number, field, reason, raw)
            SELECT %(batch)s, e.* FROM ({" UNION ALL ".join(selects)}) AS e""",
        params,
    )
    cursor.execute(
        f"""UPDATE {stage} s SET ok = false WHERE EXISTS (
                SELECT 1 FROM feeds_importrowerror e WHERE e.batch_id = %s AND e.row_number = s.row_number)""",
        [batch.pk],
    )
    # The first good row of an external id wins; later good rows with the same id are reported.
    cursor.execute(
        f"""
        WITH firsts AS (
            SELECT row_number, min(row_number) OVER (PARTITION BY external_id) AS first_row
            FROM {stage} WHERE ok
        ), repeated AS (
            INSERT INTO feeds_importrowerror (batch_id, row_number, field, reason, raw)
            SELECT %(batch)s, s.row_number, %(field)s, replace(%(reason)s, '%%(row)s', f.first_row::text), {raw}
            FROM {stage} s JOIN firsts f ON f.row_number = s.row_number
            WHERE f.row_number <> f.first_row
            RETURNING row_number
        )
        UPDATE {stage} s SET ok = false FROM repeated r WHERE s.row_number = r.row_number
        """,
        {"batch": batch.pk, "field": label("external_id"), "reason": msgs["duplicate_in_file"]},
    )


def _map_category_hints(cursor, stage: str) -> dict[str, int]:
    """Category ids for the distinct category hints of the file (few), by intake's own rule."""
    from intake.services import map_category_hint

    cursor.execute(f"SELECT DISTINCT category_hint FROM {stage} WHERE ok AND category_hint <> ''")
    hints = [r[0] for r in cursor.fetchall()]
    return {hint: category.pk for hint in hints if (category := map_category_hint(hint)) is not None}


def _unique_tracking_codes(cursor, stage: str) -> None:
    """Re-draw the (rare) tracking codes already taken, in the database or twice in the file."""
    for _round in range(10):
        cursor.execute(
            f"""SELECT s.row_number FROM {stage} s WHERE s.ok AND (
                    EXISTS (SELECT 1 FROM intake_appeal a WHERE a.tracking_code = s.tracking_code)
                    OR s.tracking_code IN (
                        SELECT tracking_code FROM {stage} WHERE ok GROUP BY tracking_code HAVING count(*) > 1))"""
        )
        clashes = [r[0] for r in cursor.fetchall()]
        if not clashes:
            return
        cursor.execute(
            f"""UPDATE {stage} s SET tracking_code = m.code
                FROM unnest(%s::int[], %s::text[]) AS m(n, code) WHERE s.row_number = m.n""",
            [clashes, [new_tracking_code() for _ in clashes]],
        )
    raise RuntimeError("could not draw unique tracking codes")


def _find_repeats(cursor, stage: str, *, channel: str) -> None:
    """Link repeat appeals of one caller the way intake does (``find_repeat``), set-wise.

    SQL fetches, for the rows to be created, the caller's appeals in the repeat window (indexed by
    phone hash); earlier rows of the same caller in this file count too, as they would if the rows
    were received one by one. Only the similarity itself is computed in Python.

    Memory stays bounded whatever the file's size: the rows that may be repeats are streamed
    through a server-side cursor ordered by caller, each caller's rows are settled together (a
    repeat only ever points at an earlier appeal of the same caller), and the links found are
    written back ``REPEAT_FLUSH_ROWS`` at a time.
    """
    from intake.similarity import cosine

    window = dt.timedelta(days=settings.INTAKE_REPEAT_WINDOW_DAYS)
    threshold = settings.INTAKE_SIMILARITY_THRESHOLD
    # Rows to be created: good, and not received before (checked by external id while reading).
    fresh = "s.ok AND NOT s.known AND s.phone_hash <> ''"
    # The callers to look at: those who come back within the file, and those with stored appeals
    # (a semi-join, so a small table of appeals is read once rather than once per row). Per row of
    # theirs: its stored candidates (the newest 50 of the caller in the window), as parallel arrays
    # newest first, with the appeal a link would point at (the candidate's own original when it is
    # itself a repeat) and that appeal's tracking code for the note; the look-up is skipped for a
    # caller without stored appeals (``k.stored`` gates it).
    sql = f"""
        WITH callers AS MATERIALIZED (
            SELECT phone_hash, bool_or(stored) AS stored FROM (
                SELECT phone_hash, false AS stored FROM {stage} WHERE ok AND phone_hash <> ''
                GROUP BY 1 HAVING count(*) > 1
                UNION ALL
                SELECT DISTINCT s.phone_hash, true FROM {stage} s
                WHERE {fresh} AND EXISTS (SELECT 1 FROM intake_appeal a WHERE a.citizen_phone_hash = s.phone_hash)
            ) x GROUP BY phone_hash
        )
        SELECT s.row_number, s.phone_hash, s.received_at, s.content, s.tracking_code,
               c.times, c.ids, c.contents, c.targets, c.codes
        FROM callers k JOIN {stage} s ON s.phone_hash = k.phone_hash CROSS JOIN LATERAL (
            SELECT array_agg(a.received_at ORDER BY a.received_at DESC, a.id DESC) AS times,
                   array_agg(a.id ORDER BY a.received_at DESC, a.id DESC) AS ids,
                   array_agg(a.content ORDER BY a.received_at DESC, a.id DESC) AS contents,
                   array_agg(coalesce(a.repeat_of_id, a.id) ORDER BY a.received_at DESC, a.id DESC) AS targets,
                   array_agg(coalesce(o.tracking_code, a.tracking_code) ORDER BY a.received_at DESC, a.id DESC)
                   AS codes
            FROM (
                SELECT a.id, a.content, a.repeat_of_id, a.received_at, a.tracking_code FROM intake_appeal a
                WHERE k.stored AND a.citizen_phone_hash = s.phone_hash AND a.status <> %(merged)s
                  AND a.received_at >= s.received_at - make_interval(days => %(window)s)
                  AND a.received_at <= s.received_at
                ORDER BY a.received_at DESC, a.id DESC LIMIT 50
            ) a LEFT JOIN intake_appeal o ON o.id = a.repeat_of_id
        ) c
        WHERE {fresh}
        ORDER BY s.phone_hash, s.row_number"""
    params = {"merged": AppealStatus.MERGED, "window": settings.INTAKE_REPEAT_WINDOW_DAYS}
    links: list[tuple[int, int | None, int | None, float, str]] = []

    def flush() -> None:
        if not links:
            return
        numbers, db_refs, row_refs, scores, notes = zip(*links, strict=True)
        cursor.execute(
            f"""UPDATE {stage} s SET repeat_of_id = m.db_ref, repeat_of_row = m.row_ref, similarity = m.score,
                    repeat_note = m.note
                FROM unnest(%s::int[], %s::bigint[], %s::int[], %s::float8[], %s::text[])
                     AS m(n, db_ref, row_ref, score, note)
                WHERE s.row_number = m.n""",
            [list(numbers), list(db_refs), list(row_refs), list(scores), list(notes)],
        )
        links.clear()

    def settle(caller_rows: list[tuple]) -> None:
        """One caller's rows in file order: each is linked to its most similar candidate."""
        chosen: dict[int, tuple[str, int, float, str]] = {}
        codes = {r[0]: r[4] for r in caller_rows}
        for i, (row_number, _hash, received_at, content, _code, times, ids, contents, targets, db_codes) in enumerate(
            caller_rows
        ):
            # (received_at, ordering key, kind, reference, content, tracking code of the reference)
            candidates = [(times[k], ids[k], "db", targets[k], contents[k], db_codes[k]) for k in range(len(ids or ()))]
            for earlier in caller_rows[:i]:
                if received_at - window <= earlier[2] <= received_at:
                    # Rows of this file get ids after every stored appeal, in file order.
                    candidates.append((earlier[2], 10**18 + earlier[0], "row", earlier[0], earlier[3], earlier[4]))
            best = None
            for cand in sorted(candidates, key=lambda c: (c[0], c[1]), reverse=True)[:50]:
                score = cosine(content, cand[4])
                if score >= threshold and (best is None or score > best[1]):
                    best = (cand, score)
            if best is None:
                continue
            cand, score = best
            if cand[2] == "db":
                chosen[row_number] = ("db", cand[3], score, cand[5])
            else:
                # An earlier row that is itself a repeat points at its original: follow the chain.
                earlier = chosen.get(cand[3])
                chosen[row_number] = (
                    earlier[:2] + (score, earlier[3]) if earlier else ("row", cand[3], score, codes[cand[3]])
                )
        for row_number, (kind, ref, score, code) in chosen.items():
            note = _("与 %(code)s 相似度 %(score).0f%%") % {"code": code, "score": score * 100}
            links.append(
                (row_number, ref if kind == "db" else None, ref if kind == "row" else None, round(score, 3), note)
            )
        if len(links) >= REPEAT_FLUSH_ROWS:
            flush()

    # A server-side cursor (inside the import's transaction) hands the rows over a few thousand
    # at a time; the other statements share the connection meanwhile.
    with connection.connection.cursor(name=f"{stage}_repeats") as stream:
        stream.itersize = REPEAT_FETCH_ROWS
        stream.execute(sql, params)
        caller_rows: list[tuple] = []
        for record in stream:
            if caller_rows and record[1] != caller_rows[0][1]:
                settle(caller_rows)
                caller_rows = []
            caller_rows.append(record)
        if caller_rows:
            settle(caller_rows)
    flush()


def _insert_appeals(
    cursor,
    stage: str,
    *,
    batch: ImportBatch,
    channel: str,
    categories: dict[str, int],
    lap: Callable[[str], None] = lambda name: None,
) -> tuple[int, tuple | None]:
    """Insert the good rows and their timeline rows (received, then repeat, then risk, as intake does).

    Returns the number created and, when some were, the span that finds the inserted rows with
    risk words after commit (``_alert_later``). The inserted ids are kept in a table of their
    own (``<stage>_ids``, dropped with the stage), never in a Python list: the later statements
    join it, and the signal's receivers get them ``SIGNAL_IDS`` at a time.
    """
    ids = f"{stage}_ids"
    # Keyed: the statements below test each row they touch against it (without the key, a plan
    # that expects few rows scans the whole table once per row).
    cursor.execute(f"CREATE UNLOGGED TABLE {ids} (id bigint PRIMARY KEY) WITH (autovacuum_enabled = false)")
    severity_rank = "CASE s.severity " + " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in Severity) + " END"
    params = {
        "channel": channel,
        "kind": Kind.COMPLAINT,
        "status": AppealStatus.NEW,
        "enterprise": Channel.ENTERPRISE,
        "actor": batch.uploaded_by_id,
        "batch": batch.pk,
        "red": Severity.RED,
        "blue": Severity.BLUE,
        "hints": list(categories),
        "cids": list(categories.values()),
    }
    cursor.execute(
        f"""
        WITH ins AS (
            INSERT INTO intake_appeal (
                channel, external_id, tracking_code, kind, category_id, severity, severity_rank, status,
                title, content, address, citizen_name, citizen_phone, citizen_phone_hash, is_enterprise,
                received_at, unit_id, proposed_unit_id, is_repeat, repeat_of_id, merged_into_id, risk_words,
                category_hint, similarity, public_reply, closed_at, created_by_id, created_at, updated_at,
                citizen_phone_last4)
            SELECT %(channel)s, s.external_id, s.tracking_code, %(kind)s, s.category_id, s.severity,
                   {severity_rank}, %(status)s, '', s.content, s.address, s.citizen_name, s.phone_enc,
                   s.phone_hash, s.is_enterprise OR %(channel)s = %(enterprise)s, s.received_at, NULL, NULL,
                   s.similarity IS NOT NULL, s.repeat_of_id, NULL, s.risk_words, s.category_hint, s.similarity,
                   '', NULL, %(actor)s, now(), now(),
                   -- The last four digits the mask shows (intake.phones.phone_last4), for the desk search.
                   CASE WHEN s.phone_enc <> '' AND s.phone_masked ~ '[0-9][0-9][0-9][0-9]$'
                        THEN right(s.phone_masked, 4) ELSE '' END
            FROM (
                -- The proposal of intake.propose_severity: risk words → red, else the category's default.
                SELECT st.*, m.cid AS category_id,
                       CASE WHEN st.risk_words <> '' THEN %(red)s ELSE coalesce(c.default_severity, %(blue)s) END
                       AS severity
                FROM {stage} st
                LEFT JOIN unnest(%(hints)s::text[], %(cids)s::bigint[]) AS m(hint, cid) ON m.hint = st.category_hint
                LEFT JOIN intake_category c ON c.id = m.cid
                WHERE st.ok AND NOT st.known
            ) s ORDER BY s.row_number
            ON CONFLICT (channel, external_id) WHERE external_id IS NOT NULL DO NOTHING
            RETURNING id, external_id, severity
        ), received AS (
            INSERT INTO intake_appealevent (appeal_id, actor_id, action, from_status, to_status, note, data, created_at)
            SELECT ins.id, %(actor)s, 'received', '', %(status)s, '',
                   jsonb_build_object('channel', %(channel)s::text, 'external_id', ins.external_id,
                                      'proposed_severity', ins.severity, 'import_batch', %(batch)s::bigint),
                   now()
            FROM ins ORDER BY ins.id RETURNING appeal_id
        ), kept AS (
            INSERT INTO {ids} (id) SELECT id FROM ins
        )
        SELECT (SELECT count(*) FROM received)
        """,
        params,
    )
    (created,) = cursor.fetchone()
    if not created:
        cursor.execute(f"DROP TABLE {ids}")
        return 0, None
    cursor.execute(f"ANALYZE {ids}")
    lap("insert")  # the appeals, their "received" rows and the table of ids
    # These rows bypassed Appeal.save(): tell the apps that count appeals, in this transaction, a
    # chunk of ids at a time (each receiver marks the chunk's days in one statement).
    with connection.connection.cursor(name=f"{ids}_signal") as stream:
        stream.execute(f"SELECT id FROM {ids} ORDER BY id")
        while chunk := [r[0] for r in stream.fetchmany(SIGNAL_IDS)]:
            appeals_written.send(sender=Appeal, appeal_ids=chunk, using=connection.alias)
    lap("signals")
    mine = f"a.id IN (SELECT id FROM {ids}) AND a.channel = %(channel)s"
    # The stage keeps the rejected rows too, and a rejected row may carry the external id of an
    # inserted one (a repeat within the file): every join back to the stage takes good rows only.
    # Repeats of an earlier row of this file: that row's id is known only now.
    cursor.execute(
        f"""UPDATE intake_appeal a SET repeat_of_id = o.id
            FROM {stage} s JOIN {stage} s0 ON s0.row_number = s.repeat_of_row
                 JOIN intake_appeal o ON o.channel = %(channel)s AND o.external_id = s0.external_id
            WHERE {mine} AND s.ok AND a.external_id = s.external_id AND s.repeat_of_row IS NOT NULL""",
        params,
    )
    cursor.execute(
        f"""INSERT INTO intake_appealevent (appeal_id, actor_id, action, from_status, to_status, note, data, created_at)
            SELECT a.id, NULL, 'repeat_detected', '', '', s.repeat_note,
                   jsonb_build_object('repeat_of', a.repeat_of_id, 'score', s.similarity), now()
            FROM intake_appeal a JOIN {stage} s ON s.external_id = a.external_id AND s.ok
            WHERE {mine} AND a.repeat_of_id IS NOT NULL ORDER BY a.id""",
        params,
    )
    cursor.execute(
        f"""INSERT INTO intake_appealevent (appeal_id, actor_id, action, from_status, to_status, note, data, created_at)
            SELECT a.id, NULL, 'risk_alert', '', '', a.risk_words,
                   jsonb_build_object('words', to_jsonb(string_to_array(a.risk_words, '、'))), now()
            FROM intake_appeal a WHERE {mine} AND a.risk_words <> '' ORDER BY a.id""",
        params,
    )
    # Every row of this insert has the transaction's now() as created_at.
    cursor.execute(f"SELECT min(id), max(id), now() FROM {ids}")
    first, last, created_at = cursor.fetchone()
    cursor.execute(f"DROP TABLE {ids}")
    return int(created), (channel, first, last, created_at)


def _alert_later(span: tuple) -> None:
    """Imported appeals with risk words alert the center exactly as pushed ones do.

    After commit, the risky appeals of the import are read back a page at a time by what they
    share (their channel, their id range, the import's created_at), so no list of ids waits in
    memory for the commit. ``alert_center`` tells each person once per appeal (its dedupe key):
    an appeal of another writer caught by the same span is told about once all the same.
    """
    from intake.services import alert_center

    channel, first, last, created_at = span

    def run() -> None:
        after = first - 1
        while True:
            page = list(
                Appeal.objects.filter(channel=channel, pk__gt=after, pk__lte=last, created_at=created_at)
                .exclude(risk_words="")
                .order_by("pk")
                .values_list("pk", flat=True)[:SIGNAL_IDS]
            )
            for pk in page:
                alert_center(pk)
            if len(page) < SIGNAL_IDS:
                return
            after = page[-1]

    transaction.on_commit(run)
