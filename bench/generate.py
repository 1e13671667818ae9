"""Fill a PostgreSQL database with province-scale history, set-wise, in minutes.

A province-like unit tree (the demo city 临江市 plus ``--cities`` generated cities, each with
``--districts`` district bureaus of ``--stations`` stations), then three years of appeals from
every channel with their timelines, work orders with their events, service records with their
evaluation SMS, the replies, ratings and callbacks. Rows are written by ``INSERT … SELECT
generate_series`` (random attributes from ``hashint8extended``, so a run is reproducible), never
by the ORM per row. Phones go through the product's own ``intake.phones.encrypt`` and
``phone_hash``: a pool of ``--phones`` distinct fake numbers (``+8613800xxxxxx``) is encrypted once
and the ciphertexts are reused, so callers recur like real ones.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_bench1m REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/generate.py --reset --appeals 1000000 --orders 1000000 \\
        --service-records 3000000

The database is created and migrated when missing (``--reset`` drops it first) and the demo is
loaded into it (users, categories, business types, feed keys, calendar). The whole generation is
one transaction: the big tables' secondary indexes are dropped and rebuilt at the end, and foreign
keys are not re-checked row by row (``session_replication_role = replica``), so the generator
itself guarantees integrity (``tests/units/test_bench_generate.py`` checks it). Every column the
generator does not set is filled from the model field's default, or NULL where allowed; a new
NOT NULL column without a default stops the run with its name.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

# Generated place names: a city is PREFIX+SUFFIX (青阳市), a district AREA+区/县, a station STREET.
CITY_PREFIX = "青白安永长平东西南北金银华兴宁富嘉丰泰恒"
CITY_SUFFIX = "阳州江山川宁城原林海"
AREAS = ["城东", "城西", "城南", "城北", "新区", "开发", "港区", "湖滨", "河西", "山前", "石桥", "桃源"]
STREETS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平街",
    "文化路",
    "胜利街",
    "新华路",
    "朝阳路",
    "光明街",
    "幸福里",
    "滨河路",
    "学府路",
    "工业大道",
    "站前街",
    "花园路",
]
# Extra wording so that two appeals of the same template rarely read the same.
OPENINGS = ["", "您好，", "我想反映一下，", "再次反映：", "紧急情况，", "请领导重视，"]
CLOSINGS = ["", "谢谢！", "希望尽快处理。", "盼回复。", "请给个说法。", "麻烦了。"]
REPLIES = [
    "经核实，已责令相关人员整改，并加强该区域巡逻管控。",
    "已联系诉求人说明情况，相关业务已办理完毕。",
    "已将情况移交属地派出所，民警已上门处理并回访。",
    "经调查，诉求情况属实，已依法处理。",
]
CALL_REASONS = ["报警后民警很久才到现场", "窗口民警态度生硬", "事故认定书迟迟没有出具", "多次来回跑，材料要求不一致"]
# (status, share) of open work orders; closed appeals' orders are closed.
OPEN_ORDER_STATUSES = [
    ("dispatched", 0.20),
    ("signed", 0.15),
    ("in_progress", 0.35),
    ("feedback_submitted", 0.15),
    ("returned", 0.05),
    ("approved", 0.10),
]
BIG_TABLES = [
    "intake_appeal",
    "intake_appealevent",
    "workorders_workorder",
    "workorders_workorderevent",
    "surveys_servicerecord",
    "sms_outboundsms",
    "sms_inboundsms",
    "surveys_rating",
    "surveys_callback",
    "workorders_scopeentry",
    "intake_appealscopeentry",
]


def log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)


def U(expr: str, salt: int) -> str:
    """SQL for a uniform [0, 1) number that depends only on ``expr`` and ``salt`` (reproducible)."""
    return f"((hashint8extended(({expr})::bigint, {salt}) & 2147483647)::float8 / 2147483648.0)"


def H(expr: str, salt: int) -> str:
    """SQL for a non-negative integer hash of ``expr``."""
    return f"(hashint8extended(({expr})::bigint, {salt}) & 2147483647)"


def pick(array: list[str], expr: str, salt: int) -> str:
    """SQL for one element of a literal text array chosen by hash."""
    from psycopg import sql

    items = ",".join(sql.Literal(a).as_string(None) for a in array)
    return f"(ARRAY[{items}]::text[])[1 + {H(expr, salt)} % {len(array)}]"


def tracking_code_sql(expr: str) -> str:
    """A 9-character code from TRACKING_ALPHABET, a bijection of the id (unique, random-looking).
    Nine characters, so no generated code can equal one of the product's own 8-character codes."""
    from intake.models import TRACKING_ALPHABET

    base = len(TRACKING_ALPHABET)
    scrambled = f"((({expr})::numeric * 2654435761) % {base**9})"
    parts = [f"substr('{TRACKING_ALPHABET}', (floor({scrambled} / {base**i}) % {base})::int + 1, 1)" for i in range(9)]
    return " || ".join(parts)


class GeneratorOutOfDate(RuntimeError):
    """A model gained a NOT NULL column without a default: the generator must be told what to put."""


def column_values(model, exprs: dict[str, str]) -> tuple[str, str]:
    """The column list and the SELECT list of an INSERT into ``model``'s table: the expressions
    given, then each other column's model default, its database default, or NULL."""
    from django.db.models import NOT_PROVIDED
    from django.utils import timezone
    from psycopg import sql

    columns, values = [], []
    known = set()
    for field in model._meta.concrete_fields:
        column = field.column
        known.add(column)
        if column in exprs:
            value = exprs[column]
        elif field.primary_key:
            continue  # the identity column numbers it
        elif getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue  # the database fills it
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = "now()"
        elif field.has_default():
            if field.default is timezone.now:
                value = "now()"
            else:
                default = field.get_default()
                if isinstance(default, dict | list):
                    value = sql.Literal(json.dumps(default)).as_string(None) + "::jsonb"
                elif default is None:
                    value = "NULL"
                else:
                    value = sql.Literal(default).as_string(None)
        elif field.null:
            value = "NULL"
        elif field.empty_strings_allowed:
            value = "''"  # what Django itself stores for a NOT NULL text column left empty
        else:
            raise GeneratorOutOfDate(
                f"{model._meta.db_table}.{column} is NOT NULL without a default: add it to bench/generate.py"
            )
        columns.append(column)
        values.append(value)
    unknown = set(exprs) - known
    if unknown:
        raise GeneratorOutOfDate(f"{model._meta.db_table} has no column(s) {sorted(unknown)}")
    return ", ".join(columns), ", ".join(values)


def insert_select(cursor, model, exprs: dict[str, str], source: str) -> int:
    columns, values = column_values(model, exprs)
    cursor.execute(f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values} {source}")
    return cursor.rowcount


def next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return cursor.fetchone()[0]


def reset_sequence(cursor, table: str) -> None:
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
    )


def secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of every index of ``tables`` that does not back a constraint."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)
        ORDER BY i.tablename, i.indexname
        """,
        [tables],
    )
    return cursor.fetchall()


# --- the steps -------------------------------------------------------------------------------


def ensure_reference_data() -> None:
    """Units, categories, risk words and business types the generated rows point at."""
    from intake import demo as intake_demo
    from intake.models import Category
    from surveys.catalogue import seed_defaults
    from units import demo as units_demo
    from units.models import Unit

    if not Unit.objects.filter(code=units_demo.CITY[0]).exists():
        units_demo.load()
    if not Category.objects.exists():
        intake_demo.load_categories()
        intake_demo.load_risk_words()
    seed_defaults()


def build_units(cursor, *, cities: int, districts: int, stations: int) -> tuple[int, int]:
    """Add the generated cities under no parent (each its own tree like the demo city) and list
    the stations rows are spread over (``bench_station``, the demo city's first); return how many
    stations there are and how many of them are the demo city's."""
    from units import demo as units_demo
    from units.models import Unit

    cursor.execute("SELECT 1 FROM units_unit WHERE code = 'P001'")
    if cursor.fetchone():
        raise SystemExit("this database already holds generated data: run again with --reset")
    demo_codes = [f"{code[:-1]}{j}" for code, _, names in units_demo.DISTRICTS for j in range(1, len(names) + 1)]
    demo_stations = list(
        Unit.objects.filter(code__in=demo_codes, name__endswith="派出所").order_by("code").values_list("id", "name")
    )
    rows = []
    unit_id = next_id(cursor, "units_unit")
    generated = []
    for c in range(1, cities + 1):
        city_name = (
            CITY_PREFIX[(c - 1) % len(CITY_PREFIX)] + CITY_SUFFIX[(c - 1) // len(CITY_PREFIX) % len(CITY_SUFFIX)]
        )
        if c > len(CITY_PREFIX) * len(CITY_SUFFIX):
            city_name += str(c)
        unit_id += 1
        city_id, city_path = unit_id, f"/{unit_id}/"
        rows.append((city_id, f"P{c:03d}", f"{city_name}市公安局", f"{city_name}市局", "city", None, city_path, c))
        for d in range(1, districts + 1):
            unit_id += 1
            district_id, district_path = unit_id, f"{city_path}{unit_id}/"
            area = AREAS[(d - 1) % len(AREAS)] + ("" if d <= len(AREAS) else str(d))
            rows.append(
                (district_id, f"P{c:03d}{d:02d}", f"{city_name}市公安局{area}分局", f"{area}分局", "district",
                 city_id, district_path, d)
            )  # fmt: skip
            for s in range(1, stations + 1):
                unit_id += 1
                street = STREETS[(s - 1 + d) % len(STREETS)]
                rows.append(
                    (unit_id, f"P{c:03d}{d:02d}{s:02d}", f"{city_name}{area}{street}派出所", f"{street}派出所",
                     "station", district_id, f"{district_path}{unit_id}/", s)
                )  # fmt: skip
                generated.append((unit_id, f"{city_name}市{area}区{street}"))
    cursor.execute(
        "CREATE TEMP TABLE bench_unit (id int, code text, name text, short_name text, tier text, parent_id int,"
        " path text, sort_order int) ON COMMIT DROP"
    )
    with cursor.cursor.copy("COPY bench_unit FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    exprs = {k: k for k in ("id", "code", "name", "short_name", "tier", "parent_id", "path", "sort_order")}
    exprs["is_active"] = "true"
    insert_select(cursor, Unit, exprs, "FROM bench_unit")
    reset_sequence(cursor, "units_unit")
    # The stations appeals and services are spread over: k = 0.. (demo city's first).
    cursor.execute("CREATE TEMP TABLE bench_station (k int PRIMARY KEY, unit_id int UNIQUE, place text) ON COMMIT DROP")
    with cursor.cursor.copy("COPY bench_station FROM STDIN") as copy:
        k = 0
        for uid, name in demo_stations:
            copy.write_row((k, uid, f"临江市{name.replace('派出所', '')}"))
            k += 1
        for uid, place in generated:
            copy.write_row((k, uid, place))
            k += 1
    # Each station's path ids: who sees a row of that station (``scope_units``, as the product
    # derives it), written with the rows instead of by a later pass over them.
    cursor.execute("ALTER TABLE bench_station ADD COLUMN scope jsonb")
    cursor.execute(
        "UPDATE bench_station s SET scope = (SELECT jsonb_agg(DISTINCT x::int ORDER BY x::int)"
        " FROM unnest(string_to_array(trim(both '/' from u.path), '/')) x) FROM units_unit u WHERE u.id = s.unit_id"
    )
    return len(demo_stations) + len(generated), len(demo_stations)


def build_phone_pool(cursor, size: int) -> None:
    """``size`` distinct fake mobiles, encrypted and hashed once by the product's own functions."""
    from intake.phones import encrypt, phone_hash

    cursor.execute(
        "CREATE TEMP TABLE bench_phone (k int PRIMARY KEY, cipher text, hash text, last4 text) ON COMMIT DROP"
    )
    with cursor.cursor.copy("COPY bench_phone FROM STDIN") as copy:
        for k in range(size):
            e164 = f"+8613800{k:06d}" if k < 1_000_000 else f"+861380{k:08d}"
            copy.write_row((k, encrypt(e164), phone_hash(e164), e164[-4:]))


def build_templates(cursor) -> int:
    """Appeal texts per category (the demo's scenarios), one row per template."""
    from intake import demo as intake_demo
    from intake.models import Category

    categories = dict(Category.objects.values_list("code", "id"))
    severities = dict(Category.objects.values_list("code", "default_severity"))
    names = dict(Category.objects.values_list("code", "name"))
    cursor.execute(
        "CREATE TEMP TABLE bench_tpl (k int PRIMARY KEY, category_id int, category_name text, kind text,"
        " severity text, body text, enterprise bool) ON COMMIT DROP"
    )
    rows = []
    for enterprise, scenarios in ((False, intake_demo.SCENARIOS), (True, intake_demo.ENTERPRISE_SCENARIOS)):
        for code, kind, body in scenarios:
            if code in categories:
                rows.append((categories[code], names[code], str(kind), severities[code], body, enterprise))
    with cursor.cursor.copy("COPY bench_tpl FROM STDIN") as copy:
        for k, row in enumerate(rows):
            copy.write_row((k, *row))
    return len(rows)


def station_sql(expr: str, salt: int, n_stations: int, n_demo: int, demo_share: float) -> str:
    """SQL for a station index: ``demo_share`` of the rows in the demo city, the rest spread evenly."""
    u = U(expr, salt)
    return (
        f"(CASE WHEN {u} < {demo_share} THEN floor({u} / {demo_share} * {n_demo})::int"
        f" ELSE {n_demo} + floor(({u} - {demo_share}) / (1 - {demo_share}) * {n_stations - n_demo})::int END)"
    )


def generate_appeals(cursor, *, n: int, base: int, span_days: int, n_phones: int, n_tpl: int, stations) -> None:
    from intake import demo as intake_demo
    from intake.models import Appeal

    n_stations, n_demo, demo_share = stations
    channels, weights = zip(*intake_demo.CHANNEL_WEIGHTS, strict=True)
    cumulative, total, cases = 0, sum(weights), []
    for channel, weight in zip(channels, weights, strict=True):
        cumulative += weight
        cases.append(f"WHEN {U('g', 3)} < {cumulative / total} THEN '{channel}'")
    channel_sql = f"(CASE {' '.join(cases[:-1])} ELSE '{channels[-1]}' END)"
    feed_channels = "('12345', '12389', 'message_board', 'enterprise')"
    given = intake_demo.GIVEN
    surname = intake_demo.SURNAMES
    risky = intake_demo.RISKY[0][2].replace("{n}", "3")
    # One row per appeal with its random draws; the INSERT below reads the derived values.
    plan = f"""
        FROM (
          SELECT p.*, t.category_id, t.category_name, t.kind, t.severity AS cat_severity, t.body, t.enterprise,
                 s.unit_id AS station_unit, s.place, ph.cipher, ph.hash, ph.last4, s.scope AS station_scope,
                 CASE
                   WHEN p.age > 30 THEN CASE WHEN p.rs < 0.02 AND p.g > 1 THEN 'merged'
                                            WHEN p.rs < 0.99 THEN 'closed' ELSE 'dispatched' END
                   WHEN p.age < 3 AND p.rs < 0.10 THEN 'new'
                   WHEN p.age < 3 AND p.rs < 0.18 THEN 'pending_dispatch'
                   WHEN p.age < 3 THEN 'dispatched'
                   WHEN p.rs < 0.02 AND p.g > 1 THEN 'merged'
                   WHEN p.rs < 0.55 THEN 'closed' ELSE 'dispatched' END AS status
          FROM (
            SELECT g, {base} + g AS id, {U("g", 1)} * {span_days} AS age, {U("g", 2)} AS rs,
                   {channel_sql} AS channel, {U("g", 5)} AS rr
            FROM generate_series(1, {n}) AS g
          ) p
          JOIN bench_tpl t ON t.k = {H("p.g", 4)} % {n_tpl}
          JOIN bench_station s ON s.k = {station_sql("p.g", 6, n_stations, n_demo, demo_share)}
          JOIN bench_phone ph ON ph.k = {H("p.g", 7)} % {n_phones}
        ) a
    """
    received = "(now() - a.age * interval '1 day')"
    # Consultations and praise are answered on the desk (no order); the rest go to the station.
    has_order = "(a.status = 'dispatched' OR (a.status = 'closed' AND a.rr >= 0.10))"
    closed = f"LEAST(now(), {received} + (2 + {U('a.g', 8)} * 12) * interval '1 day')"
    is_risky = f"({U('a.g', 9)} < 0.002)"
    severity = f"(CASE WHEN {is_risky} THEN 'red' WHEN {U('a.g', 10)} < 0.05 THEN 'orange' ELSE a.cat_severity END)"
    content = (
        f"{pick(OPENINGS, 'a.g', 11)} || "
        f"(CASE WHEN {is_risky} THEN '{risky}' ELSE "
        f"replace(replace(a.body, '{{place}}', a.place), '{{n}}', (2 + a.g % 8)::text) END)"
        f" || {pick(CLOSINGS, 'a.g', 12)}"
    )
    exprs = {
        "id": "a.id",
        "channel": "a.channel",
        "external_id": f"CASE WHEN a.channel IN {feed_channels} THEN 'B' || a.id END",
        "tracking_code": tracking_code_sql("a.id"),
        "kind": "a.kind",
        "category_id": "CASE WHEN a.status = 'new' AND a.rr < 0.5 THEN NULL ELSE a.category_id END",
        "severity": severity,
        "severity_rank": f"(CASE {severity} WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END)",
        "status": "a.status",
        "title": "a.category_name || '：' || a.place",
        "content": content,
        "address": "a.place || (1 + a.g % 300)::text || '号'",
        "citizen_name": f"substr('{surname}', (1 + {H('a.g', 13)} % {len(surname)})::int, 1) || {pick(given, 'a.g', 14)}",
        "citizen_phone": "a.cipher",
        "citizen_phone_hash": "a.hash",
        "is_enterprise": "a.enterprise",
        "received_at": received,
        "unit_id": f"CASE WHEN {has_order} THEN a.station_unit END",
        "proposed_unit_id": "CASE WHEN a.status <> 'new' THEN a.station_unit END",
        "is_repeat": f"({U('a.g', 15)} < 0.04 AND a.g > 1)",
        "repeat_of_id": f"CASE WHEN {U('a.g', 15)} < 0.04 AND a.g > 1 THEN {base} + 1 + {H('a.g', 16)} % (a.g - 1) END",
        "similarity": f"CASE WHEN {U('a.g', 15)} < 0.04 AND a.g > 1 THEN 0.82 END",
        "merged_into_id": f"CASE WHEN a.status = 'merged' THEN {base} + 1 + {H('a.g', 17)} % (a.g - 1) END",
        "risk_words": f"CASE WHEN {is_risky} THEN '{intake_demo.RISK_WORDS[0][0]}' ELSE '' END",
        "category_hint": f"CASE WHEN a.channel IN {feed_channels} THEN a.category_name ELSE '' END",
        "public_reply": f"CASE WHEN a.status = 'closed' THEN {pick(REPLIES, 'a.g', 18)} ELSE '' END",
        "closed_at": f"CASE WHEN a.status IN ('closed', 'merged') THEN {closed} END",
        "created_at": received,
        "updated_at": f"CASE WHEN a.status IN ('closed', 'merged') THEN {closed} ELSE {received} END",
    }
    # Derived phone columns, when the model has them (the last four digits for the desk search).
    if "citizen_phone_last4" in {f.column for f in Appeal._meta.concrete_fields}:
        exprs["citizen_phone_last4"] = "a.last4"
    # Who sees the appeal, written with the row (see ``unit_scopes``); a second pass over ten
    # million rows rewrote the whole table (half an hour of the 10M run).
    if has_scope_columns():
        exprs["scope_units"] = f"CASE WHEN {has_order} THEN a.station_scope ELSE '[]'::jsonb END"
    insert_select(cursor, Appeal, exprs, plan)


def generate_appeal_events(cursor, *, base: int) -> int:
    from intake.models import AppealEvent

    total = 0
    mine = f"FROM intake_appeal a WHERE a.id > {base}"
    steps = [
        ("received", "''", "'new'", "a.received_at", ""),
        (
            "dispatched",
            "'pending_dispatch'",
            "'dispatched'",
            "a.received_at + interval '90 minutes'",
            " AND a.unit_id IS NOT NULL",
        ),
        (
            "closed",
            "CASE WHEN a.unit_id IS NULL THEN 'new' ELSE 'dispatched' END",
            "'closed'",
            "a.closed_at",
            " AND a.status = 'closed'",
        ),
        ("merged", "'new'", "'merged'", "a.closed_at", " AND a.status = 'merged'"),
    ]
    for action, from_status, to_status, at, where in steps:
        exprs = {
            "appeal_id": "a.id",
            "action": f"'{action}'",
            "from_status": from_status,
            "to_status": to_status,
            "note": "a.public_reply" if action == "closed" else "''",
            "data": "'{}'::jsonb",
            "created_at": at,
        }
        total += insert_select(cursor, AppealEvent, exprs, mine + where)
    return total


def generate_orders(cursor, *, base: int, order_base: int, extra: int) -> int:
    """One order per appeal with a unit, in the appeal's state; ``extra`` earlier orders handed back
    by a neighbouring station before the right one took the appeal."""
    from workorders.models import WorkOrder

    cases, cumulative = [], 0.0
    for status, share in OPEN_ORDER_STATUSES:
        cumulative += share
        cases.append(f"WHEN {U('a.id', 20)} < {cumulative:.4f} THEN '{status}'")
    open_status = f"(CASE {' '.join(cases[:-1])} ELSE '{OPEN_ORDER_STATUSES[-1][0]}' END)"
    source = f"""
        FROM (
          SELECT a.*, {order_base} + row_number() OVER (ORDER BY a.id) AS oid,
                 CASE WHEN a.status = 'closed' THEN 'closed' ELSE {open_status} END AS ostatus,
                 LEAST(now(), a.received_at + (1 + {U("a.id", 21)} * 20) * interval '1 hour') AS dispatched
          FROM intake_appeal a WHERE a.id > {base} AND a.unit_id IS NOT NULL
        ) a
    """
    due = "(a.dispatched + interval '7 days')"
    signed = "a.ostatus NOT IN ('dispatched')"
    fed_back = "a.ostatus IN ('feedback_submitted', 'approved', 'closed')"
    with_unit = "a.ostatus IN ('dispatched', 'signed', 'in_progress', 'returned')"
    exprs = order_exprs(due=due, signed=signed, fed_back=fed_back, with_unit=with_unit)
    scoped = has_scope_columns()
    if scoped:
        exprs["scope_units"] = "a.scope_units"  # the station's path ids, as its appeal's
    created = insert_select(cursor, WorkOrder, exprs, source)
    if extra > 0:
        source = f"""
            FROM (
              SELECT a.*, {order_base + created} + row_number() OVER (ORDER BY a.id) AS oid,
                     'handed_back' AS ostatus, a.received_at + interval '30 minutes' AS dispatched,
                     (SELECT n.unit_id FROM bench_station s JOIN bench_station n ON n.k = s.k + 1
                      WHERE s.unit_id = a.unit_id) AS next_unit
              FROM (SELECT * FROM intake_appeal a WHERE a.id > {base} AND a.status = 'closed'
                    AND a.unit_id IS NOT NULL ORDER BY a.id LIMIT {extra}) a
            ) a
        """
        exprs = order_exprs(due=due, signed="false", fed_back="false", with_unit="false")
        # Handed back by the station next to the one that finally handled it.
        exprs["unit_id"] = "COALESCE(a.next_unit, a.unit_id)"
        exprs["handback_reason"] = "'不属于本辖区，请改派。'"
        exprs["closed_at"] = "NULL"
        exprs["closed_on_time"] = "NULL"
        exprs["updated_at"] = "a.dispatched + interval '2 hours'"
        if scoped:
            exprs["scope_units"] = (
                "(SELECT s.scope FROM bench_station s WHERE s.unit_id = COALESCE(a.next_unit, a.unit_id))"
            )
        created += insert_select(cursor, WorkOrder, exprs, source)
    return created


def order_exprs(*, due: str, signed: str, fed_back: str, with_unit: str) -> dict[str, str]:
    feedback_at = f"CASE WHEN a.ostatus = 'closed' THEN a.closed_at - interval '2 hours' WHEN {fed_back} THEN LEAST(now(), a.dispatched + interval '3 days') END"
    return {
        "id": "a.oid",
        "number": "'GD' || to_char(a.dispatched AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || CASE WHEN a.oid < 10000 THEN lpad(a.oid::text, 5, '0') ELSE a.oid::text END",
        "appeal_id": "a.id",
        "unit_id": "a.unit_id",
        "status": "a.ostatus",
        "severity": "a.severity",
        "note": "''",
        "dispatched_at": "a.dispatched",
        "working_days": "5",
        "sign_deadline": "a.dispatched + CASE WHEN a.severity = 'red' THEN interval '30 minutes' ELSE interval '1 day' END",
        "due_at": due,
        "due_basis_at": "a.dispatched",
        "due_basis_days": "5",
        "urge_stage": f"CASE WHEN {with_unit} AND {due} < now() THEN 3 ELSE 0 END",
        "is_overdue": f"({with_unit} AND {due} < now())",
        "overdue_at": f"CASE WHEN {with_unit} AND {due} < now() THEN {due} END",
        "signed_at": f"CASE WHEN {signed} THEN a.dispatched + interval '2 hours' END",
        "feedback_text": f"CASE WHEN {fed_back} THEN a.public_reply ELSE '' END",
        "feedback_result": f"CASE WHEN {fed_back} THEN 'resolved' ELSE '' END",
        "contact_method": f"CASE WHEN {fed_back} THEN 'phone' ELSE '' END",
        "contacted_at": feedback_at,
        "feedback_at": feedback_at,
        "closed_at": "CASE WHEN a.ostatus = 'closed' THEN a.closed_at END",
        "closed_on_time": f"CASE WHEN a.ostatus = 'closed' THEN a.closed_at <= {due} END",
        "reply_text": "CASE WHEN a.ostatus = 'closed' THEN a.public_reply ELSE '' END",
        # Closed long ago: the notices went out then (the sweeper must not re-drive them).
        "close_sms_queued_at": "CASE WHEN a.ostatus = 'closed' THEN a.closed_at END",
        "result_queued_at": "CASE WHEN a.ostatus = 'closed' THEN a.closed_at END",
        "created_at": "a.dispatched",
        "updated_at": "COALESCE(a.closed_at, a.dispatched)",
    }


def has_scope_columns() -> bool:
    """Whether the product keeps ``scope_units`` (the unit ids that see a row) on orders and appeals."""
    from intake.models import Appeal
    from workorders.models import WorkOrder

    return {"scope_units"} <= {f.name for f in WorkOrder._meta.fields} & {f.name for f in Appeal._meta.fields}


def fill_scopes(cursor, *, base: int, order_base: int) -> bool:
    """Complete the rows' ``scope_units`` as ``save()`` keeps them. The inserts wrote each row's
    own unit's path ids (generated orders have no assisting units); an appeal also counts the
    units of its orders, so those handed back by another station get that station's ids here,
    set-wise. Left at their default ``[]``, a station's users would see none of the generated
    history and every unit-scoped list would be measured on the demo's rows only. False when the
    product has no such columns."""
    if not has_scope_columns():
        return False
    # Appeals whose order went to another station first: that station saw them too.
    cursor.execute(
        "WITH moved AS (SELECT w.appeal_id, w.scope_units FROM workorders_workorder w"
        f" JOIN intake_appeal a ON a.id = w.appeal_id WHERE w.id > {order_base} AND w.unit_id IS DISTINCT FROM a.unit_id)"
        " UPDATE intake_appeal a SET scope_units = s.scope FROM ("
        " SELECT x.id, jsonb_agg(DISTINCT x.v ORDER BY x.v) AS scope FROM ("
        "  SELECT a2.id, jsonb_array_elements(a2.scope_units) AS v FROM intake_appeal a2"
        "  WHERE a2.id IN (SELECT appeal_id FROM moved)"
        "  UNION ALL SELECT m.appeal_id, jsonb_array_elements(m.scope_units) FROM moved m"
        " ) x GROUP BY x.id) s WHERE a.id = s.id"
    )
    # The ordered lists' rows, one per unit that sees an order, as the order table's triggers
    # write them (``session_replication_role = replica`` keeps those triggers quiet here).
    from workorders import models as workorder_models

    if hasattr(workorder_models, "scope_entries_sql"):
        cursor.execute(workorder_models.scope_entries_sql("workorders_workorder", f"w.id > {order_base}"))
    # The same for the appeals' ordered lists, now that their scopes are final.
    from intake import models as intake_models

    if hasattr(intake_models, "appeal_scope_entries_sql"):
        cursor.execute(intake_models.appeal_scope_entries_sql("intake_appeal", f"a.id > {base}"))
    return True


def generate_order_events(cursor, *, order_base: int) -> int:
    from workorders.models import WorkOrderEvent

    mine = f"FROM workorders_workorder o WHERE o.id > {order_base}"
    steps = [
        ("dispatch", "''", "'dispatched'", "o.dispatched_at", ""),
        ("sign", "'dispatched'", "'signed'", "o.signed_at", " AND o.signed_at IS NOT NULL"),
        (
            "start",
            "'signed'",
            "'in_progress'",
            "o.signed_at + interval '1 hour'",
            " AND o.status NOT IN ('dispatched', 'signed', 'handed_back')",
        ),
        ("submit_feedback", "'in_progress'", "'feedback_submitted'", "o.feedback_at", " AND o.feedback_at IS NOT NULL"),
        (
            "approve",
            "'feedback_submitted'",
            "'approved'",
            "LEAST(now(), o.feedback_at + interval '1 hour')",
            " AND o.status IN ('approved', 'closed')",
        ),
        ("close", "'approved'", "'closed'", "o.closed_at", " AND o.status = 'closed'"),
        (
            "hand_back",
            "'dispatched'",
            "'handed_back'",
            "o.dispatched_at + interval '1 hour'",
            " AND o.status = 'handed_back'",
        ),
    ]
    total = 0
    for action, from_status, to_status, at, where in steps:
        exprs = {
            "order_id": "o.id",
            "action": f"'{action}'",
            "from_status": from_status,
            "to_status": to_status,
            "note": "o.handback_reason" if action == "hand_back" else "''",
            "data": "'{}'::jsonb",
            "created_at": at,
        }
        total += insert_select(cursor, WorkOrderEvent, exprs, mine + where)
    return total


def generate_services(cursor, *, n: int, span_days: int, n_phones: int, stations) -> dict[str, int]:
    """Service records, the evaluation SMS of those not skipped, replies, ratings and callbacks."""
    from sms.catalogue import template_text
    from sms.models import InboundSms, OutboundSms
    from surveys.models import BusinessType, Callback, Rating, ServiceRecord

    n_stations, n_demo, demo_share = stations
    cursor.execute("CREATE TEMP TABLE bench_type (k int PRIMARY KEY, id int, template text, body text) ON COMMIT DROP")
    types = list(BusinessType.objects.select_related("template").order_by("sort_order", "code"))
    with cursor.cursor.copy("COPY bench_type FROM STDIN") as copy:
        for k, bt in enumerate(types):
            copy.write_row((k, bt.pk, bt.template.code, bt.template.text or template_text(bt.template.code)))
    counts = {}
    record_base = next_id(cursor, "surveys_servicerecord")
    served = f"(now() - {U('g', 30)} * {span_days} * interval '1 day' - interval '1 day')"
    source = f"""
        FROM generate_series(1, {n}) AS g
        JOIN bench_station s ON s.k = {station_sql("g", 31, n_stations, n_demo, demo_share)}
        JOIN bench_phone ph ON ph.k = {H("g", 32)} % {n_phones}
        JOIN bench_type t ON t.k = {H("g", 33)} % {len(types)}
    """
    skipped = f"({U('g', 34)} < 0.15)"
    exprs = {
        "id": f"{record_base} + g",
        "external_id": f"'BSR' || ({record_base} + g)",
        "business_type_id": "t.id",
        "served_at": served,
        "unit_id": "s.unit_id",
        "officer_code": f"lpad(({H('g', 35)} % 100000)::text, 6, '0')",
        "citizen_phone": "ph.cipher",
        "citizen_phone_hash": "ph.hash",
        "source": "'bench'",
        "state": f"CASE WHEN {skipped} THEN 'skipped' ELSE 'queued' END",
        "skip_reason": f"CASE WHEN {skipped} THEN 'recently_contacted' ELSE '' END",
        "created_at": served,
    }
    counts["service records"] = insert_select(cursor, ServiceRecord, exprs, source)

    sms_base = next_id(cursor, "sms_outboundsms")
    date = "to_char(r.served_at AT TIME ZONE 'Asia/Shanghai', 'FMMM\"月\"FMDD\"日\"')"
    sent = "(r.served_at + interval '1 day')"
    status = f"(CASE WHEN {U('r.id', 36)} < 0.93 THEN 'delivered' WHEN {U('r.id', 36)} < 0.97 THEN 'undelivered' ELSE 'failed' END)"
    source = f"""
        FROM (SELECT r.*, {sms_base} + row_number() OVER (ORDER BY r.id) AS sid FROM surveys_servicerecord r
              WHERE r.id > {record_base} AND r.state = 'queued') r
        JOIN bench_type t ON t.id = r.business_type_id
    """
    exprs = {
        "id": "r.sid",
        "phone": "r.citizen_phone",
        "phone_hash": "r.citizen_phone_hash",
        "template_code": "t.template",
        "params": f"jsonb_build_object('date', {date})",
        "text": f"replace(t.body, '{{date}}', {date})",
        "segments": "1",
        "purpose": "'evaluation'",
        "dedupe_key": "'evaluation:' || r.id",
        "service_record_id": "r.id",
        "status": status,
        "send_after": sent,
        "next_attempt_at": sent,
        "attempts": "1",
        "enqueued_at": sent,
        "claimed_at": sent,
        "backend": "'outbox'",
        "provider_sid": "'BSM' || r.sid",
        "sent_at": sent,
        "delivered_at": f"CASE WHEN {status} = 'delivered' THEN {sent} + interval '6 seconds' END",
        "failed_at": f"CASE WHEN {status} <> 'delivered' THEN {sent} + interval '6 seconds' END",
        "last_error": f"CASE WHEN {status} = 'failed' THEN '空号' ELSE '' END",
        "created_at": sent,
        "updated_at": sent,
    }
    counts["evaluation SMS"] = insert_select(cursor, OutboundSms, exprs, source)

    # 40% of the delivered SMS are answered: the reply, then the rating it became.
    inbound_base = next_id(cursor, "sms_inboundsms")
    verdict = f"(CASE WHEN {U('m.id', 37)} < 0.80 THEN 'satisfied' WHEN {U('m.id', 37)} < 0.92 THEN 'basic' WHEN {U('m.id', 37)} < 0.97 THEN 'dissatisfied' ELSE 'declined' END)"
    answered = f"""
        FROM (SELECT m.*, {inbound_base} + row_number() OVER (ORDER BY m.id) AS iid, {verdict} AS verdict,
                     m.sent_at + (5 + {U("m.id", 38)} * 600) * interval '1 minute' AS replied
              FROM sms_outboundsms m
              WHERE m.id > {sms_base} AND m.status = 'delivered' AND {U("m.id", 39)} < 0.40) m
    """
    body = "CASE m.verdict WHEN 'satisfied' THEN '1' WHEN 'basic' THEN '2' WHEN 'dissatisfied' THEN '3' ELSE '0' END"
    exprs = {
        "id": "m.iid",
        "provider": "'outbox'",
        "provider_message_id": "'BIN' || m.iid",
        "phone": "m.phone",
        "phone_hash": "m.phone_hash",
        "body": body,
        "received_at": "m.replied",
        "outcome": "'rating'",
        "matched_sms_id": "m.id",
    }
    counts["replies"] = insert_select(cursor, InboundSms, exprs, answered)
    rating_base = next_id(cursor, "surveys_rating")
    source = f"""
        FROM (SELECT i.*, {rating_base} + row_number() OVER (ORDER BY i.id) AS rid FROM sms_inboundsms i
              WHERE i.id > {inbound_base}) i
        JOIN sms_outboundsms m ON m.id = i.matched_sms_id
        JOIN surveys_servicerecord r ON r.id = m.service_record_id
    """
    exprs = {
        "id": "i.rid",
        "sms_id": "m.id",
        "service_record_id": "r.id",
        "unit_id": "r.unit_id",
        "business_type_id": "r.business_type_id",
        "verdict": "CASE i.body WHEN '1' THEN 'satisfied' WHEN '2' THEN 'basic' WHEN '3' THEN 'dissatisfied' ELSE 'declined' END",
        "text": "i.body",
        "source": "'sms'",
        "inbound_id": "i.id",
        "phone_hash": "i.phone_hash",
        "rated_at": "i.received_at",
    }
    counts["ratings"] = insert_select(cursor, Rating, exprs, source)
    recent = "r.rated_at > now() - interval '5 days'"
    source = f"FROM surveys_rating r WHERE r.id > {rating_base} AND r.verdict = 'dissatisfied'"
    exprs = {
        "rating_id": "r.id",
        "unit_id": "r.unit_id",
        "status": f"CASE WHEN {recent} THEN CASE WHEN {U('r.id', 40)} < 0.6 THEN 'pending' ELSE 'reached' END ELSE 'closed' END",
        "due_at": "r.rated_at + interval '48 hours'",
        "attempts": f"CASE WHEN {recent} AND {U('r.id', 40)} < 0.6 THEN 0 ELSE 1 END",
        "reason": f"CASE WHEN {recent} AND {U('r.id', 40)} < 0.6 THEN '' ELSE {pick(CALL_REASONS, 'r.id', 41)} END",
        "is_reasonable": f"CASE WHEN {recent} THEN NULL ELSE {U('r.id', 42)} < 0.3 END",
        "verdict": f"CASE WHEN {recent} THEN '' ELSE 'explained' END",
        "closed_at": f"CASE WHEN {recent} THEN NULL ELSE r.rated_at + interval '1 day' END",
        "created_at": "r.rated_at",
    }
    counts["callbacks"] = insert_select(cursor, Callback, exprs, source)
    for table in ("surveys_servicerecord", "sms_outboundsms", "sms_inboundsms", "surveys_rating"):
        reset_sequence(cursor, table)
    return counts


def generate(
    *,
    appeals: int,
    orders: int | None = None,
    service_records: int,
    cities: int,
    districts: int,
    stations: int,
    phones: int,
    span_days: int = 3 * 365,
    demo_share: float = 0.05,
    rebuild_indexes: bool = True,
    quiet: bool = False,
) -> dict[str, int]:
    """Write the history in one transaction on Django's default connection; return row counts."""
    from django.db import connection, transaction

    started = time.perf_counter()
    say = (lambda m: None) if quiet else (lambda m: log(m, started))
    counts: dict[str, int] = {}
    ensure_reference_data()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL jit = off")
        dropped = []
        if rebuild_indexes:
            dropped = secondary_indexes(cursor, BIG_TABLES)
            for name, _ in dropped:
                cursor.execute(f'DROP INDEX "{name}"')
            say(f"dropped {len(dropped)} secondary indexes of {len(BIG_TABLES)} tables (rebuilt at the end)")
        n_stations, n_demo = build_units(cursor, cities=cities, districts=districts, stations=stations)
        counts["units"] = cities * (1 + districts * (1 + stations))
        say(f"units: +{counts['units']:,} ({cities} cities × {districts} districts × {stations} stations)")
        build_phone_pool(cursor, phones)
        say(f"phone pool: {phones:,} numbers encrypted and hashed")
        n_tpl = build_templates(cursor)
        place = (n_stations, n_demo, demo_share)

        base = next_id(cursor, "intake_appeal")
        generate_appeals(
            cursor, n=appeals, base=base, span_days=span_days, n_phones=phones, n_tpl=n_tpl, stations=place
        )
        counts["appeals"] = appeals
        reset_sequence(cursor, "intake_appeal")
        say(f"appeals: {appeals:,}")
        counts["appeal events"] = generate_appeal_events(cursor, base=base)
        reset_sequence(cursor, "intake_appealevent")
        say(f"appeal timeline rows: {counts['appeal events']:,}")

        cursor.execute(f"SELECT count(*) FROM intake_appeal WHERE id > {base} AND unit_id IS NOT NULL")
        with_unit = cursor.fetchone()[0]
        wanted = appeals if orders is None else orders
        order_base = next_id(cursor, "workorders_workorder")
        counts["work orders"] = generate_orders(
            cursor, base=base, order_base=order_base, extra=max(0, wanted - with_unit)
        )
        reset_sequence(cursor, "workorders_workorder")
        say(f"work orders: {counts['work orders']:,} ({with_unit:,} current, the rest handed back)")
        counts["work-order events"] = generate_order_events(cursor, order_base=order_base)
        reset_sequence(cursor, "workorders_workorderevent")
        say(f"work-order events: {counts['work-order events']:,}")
        if fill_scopes(cursor, base=base, order_base=order_base):
            say("who sees what: scope columns of the new orders and appeals filled")

        for label, value in generate_services(
            cursor, n=service_records, span_days=span_days, n_phones=phones, stations=place
        ).items():
            counts[label] = value
            say(f"{label}: {value:,}")
        reset_sequence(cursor, "surveys_callback")

        for i, (name, definition) in enumerate(dropped, start=1):
            t0 = time.perf_counter()
            cursor.execute(definition)
            if time.perf_counter() - t0 > 5:
                say(f"index {i}/{len(dropped)} {name} rebuilt ({time.perf_counter() - t0:.0f} s)")
        if dropped:
            say(f"{len(dropped)} indexes rebuilt")
    return counts


# --- command line ----------------------------------------------------------------------------


def ensure_database(reset: bool) -> None:
    import psycopg

    url = urllib.parse.urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not name.startswith("oc_bench"):
        raise SystemExit(f"refusing to write generated history into {name!r}: use a database named oc_bench…")
    with psycopg.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING UTF8')


def load_demo() -> None:
    """Each app's demo (users, feed keys, calendar, policies, a month of the demo city), as
    ``manage.py load_demo`` does; an app whose demo fails is reported and skipped, since the
    generated history does not depend on the analytics or survey demo rows."""
    from django.db import transaction

    from units.app_modules import app_modules

    for module in app_modules("demo"):
        try:
            with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), transaction.atomic():
                module.load(stdout=None)
        except Exception as exc:  # noqa: BLE001 (reported; the history does not need it)
            print(f"warning: the demo {module.__name__} failed and was skipped: {exc!r}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=None, help="work orders (default: as many as appeals)")
    parser.add_argument("--service-records", type=int, default=3_000_000)
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--districts", type=int, default=10, help="district bureaus per city")
    parser.add_argument("--stations", type=int, default=8, help="stations per district")
    parser.add_argument("--phones", type=int, default=200_000, help="distinct callers in the pool")
    parser.add_argument("--years", type=float, default=3.0, help="history spread over this many years")
    parser.add_argument("--demo-share", type=float, default=0.05, help="share of rows in the demo city 临江市")
    parser.add_argument(
        "--aggregate-months",
        type=int,
        default=None,
        help="rebuild the stored aggregates for this many recent months only (0: skip; default: the whole span)",
    )
    parser.add_argument("--reset", action="store_true", help="drop and re-create the database first")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database named oc_bench…")
    started = time.perf_counter()
    ensure_database(args.reset)

    import django

    django.setup()
    from django.core.management import call_command, get_commands
    from django.db import connection

    from units.models import User

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="center").exists():
        load_demo()
    log("database migrated, demo loaded", started)
    counts = generate(
        appeals=args.appeals,
        orders=args.orders,
        service_records=args.service_records,
        cities=args.cities,
        districts=args.districts,
        stations=args.stations,
        phones=args.phones,
        span_days=int(args.years * 365),
        demo_share=args.demo_share,
    )
    log("committed", started)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    log("vacuumed and analysed", started)
    # Stored figures derived from the history (analytics' daily aggregates) are rebuilt by the
    # product's own command, over the whole generated span, when the product has one.
    if "rebuild_aggregates" in get_commands() and args.aggregate_months != 0:
        first = dt.date.today() - dt.timedelta(days=int(args.years * 365) + 2)
        if args.aggregate_months:
            first = max(first, (dt.date.today() - dt.timedelta(days=31 * args.aggregate_months)).replace(day=1))
        with open(os.devnull, "w") as devnull:
            call_command("rebuild_aggregates", "--from", f"{first}", stdout=devnull)
        log(f"rebuild_aggregates --from {first} done", started)
    cursor = connection.cursor()
    cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
    size = cursor.fetchone()[0]
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f"; database {size}")


if __name__ == "__main__":
    main()
