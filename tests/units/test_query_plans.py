"""Plans, not times: every staff list query, as the views build it, uses an index and reads a
bounded number of rows on a 50k-row history (ARCHITECTURE rules 7, 12, 15).

The history is generated set-wise (INSERT … SELECT generate_series) inside the test's transaction,
ANALYZEd, and each query the list pages and endpoints run (the desk as center staff, handler and
leader with each tab and the common filters, the API appeals list, the workspace tabs and their
counts, the review lists, the callback desk, the SMS outbox and service-record lists, the caller
look-up and reply matching) is explained with ``EXPLAIN (FORMAT JSON)``. A sequential scan of a
big table fails the test, and so does a scan node estimated to read more than ``MAX_ROWS_READ``
rows (a LIMIT above an ordered index scan caps what it reads).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from intake import selectors as intake_selectors
from intake.filters import AppealFilter
from intake.models import Appeal, Category
from intake.phones import phone_hash
from sms.filters import OutboundSmsFilter
from sms.models import OutboundSms
from surveys import selectors as surveys_selectors
from surveys.filters import CallbackFilter, ServiceRecordFilter
from surveys.models import Callback, ServiceRecord
from units.models import Unit
from workorders import selectors as wo_selectors

pytestmark = pytest.mark.django_db

N = 50_000
BIG = {
    "intake_appeal",
    "workorders_workorder",
    "intake_appealscopeentry",
    "surveys_servicerecord",
    "sms_outboundsms",
    "surveys_rating",
    "surveys_callback",
}
# A list page reads ~50 rows; a unit's scope or a status of open items a few thousand at most.
# A plan reading the history of a whole table (50k here, 10M in a province) is far above.
MAX_ROWS_READ = 8_000
PHONE = "+8613800000077"
# Twenty matters, so that a word is in a realistic share of the history (~5 %), over three years.
TEXTS = [
    "小区夜间烧烤噪音扰民",
    "电动车被盗请求查找",
    "冒充公检法电话诈骗",
    "消防通道被占用",
    "广场舞音响太吵",
    "快递柜被撬",
    "网购被骗三千元",
    "户口迁移办理缓慢",
    "身份证补办要求多次跑",
    "路口红绿灯故障",
    "违章停车堵住小区出口",
    "出租屋群租存在隐患",
    "酒后驾车无人查处",
    "学校门口拥堵",
    "邻居饲养烈犬伤人",
    "营业执照被冒用",
    "银行卡被盗刷",
    "装修施工到深夜",
    "求助寻找走失老人",
    "投诉窗口民警态度差",
]


def _generate() -> None:
    from intake import demo as intake_demo
    from surveys.catalogue import seed_defaults

    intake_demo.load_categories()
    seed_defaults()  # templates and business types (a transactional test elsewhere may have flushed them)
    units = list(Unit.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    categories = list(Category.objects.values_list("pk", flat=True))
    caller = phone_hash(PHONE)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO intake_appeal (channel, external_id, tracking_code, kind, category_id, severity,
                severity_rank, status, title, content, address, citizen_name, citizen_phone,
                citizen_phone_hash, is_enterprise, received_at, unit_id, is_repeat, risk_words,
                public_reply, created_at, updated_at, category_hint)
            SELECT (ARRAY['hotline','12345','mayor_mailbox'])[1 + g % 3], 'B' || g, 'T' || lpad(g::text, 10, '0'),
                'complaint', (%(categories)s::bigint[])[1 + g %% cardinality(%(categories)s::bigint[])],
                (ARRAY['red','orange','yellow','blue'])[1 + g %% 4], g %% 4,
                CASE WHEN g %% 100 < 84 THEN 'closed' WHEN g %% 100 < 88 THEN 'new'
                     WHEN g %% 100 < 91 THEN 'pending_dispatch' WHEN g %% 100 < 98 THEN 'dispatched'
                     ELSE 'merged' END,
                '', (%(texts)s::text[])[1 + (g / 7) %% cardinality(%(texts)s::text[])]
                    || '，第' || g || '号', '临江市江北区滨江路' || (g %% 300) || '号', '张三', '',
                CASE WHEN g %% 5000 = 0 THEN %(caller)s ELSE md5(g::text) END, false,
                now() - make_interval(mins => g * 30), NULL, false, '', '', now(), now(), ''
            FROM generate_series(1, %(n)s) g
            """.replace("1 + g % 3", "1 + g %% 3"),
            {"n": N, "categories": categories, "caller": caller, "texts": TEXTS},
        )
        # Dispatched and closed appeals carry a work order at a station (every 7th also an assisting one).
        cur.execute(
            """
            INSERT INTO workorders_workorder (appeal_id, unit_id, status, severity, note, dispatched_at, due_at,
                deadline_provisional, urge_stage, deadline_version, is_overdue, feedback_text, feedback_result,
                contact_method, return_count, extension_state, extension_reason, handback_reason, is_listed,
                listed_reason, supervision_waived, reply_text, reopen_count, created_at, updated_at,
                notice_attempts, feedback_at, closed_at)
            SELECT a.id, (%(units)s::bigint[])[1 + a.id %% cardinality(%(units)s::bigint[])],
                CASE WHEN a.status = 'closed' THEN 'closed'
                     ELSE (ARRAY['dispatched','signed','in_progress','feedback_submitted','returned'])[1 + a.id %% 5]
                END,
                a.severity, '', a.received_at, a.received_at + interval '5 days', false, 0, 1,
                a.id %% 11 = 0, '', '', '', 0, CASE WHEN a.id %% 13 = 0 THEN 'requested' ELSE '' END, '', '',
                false, '', false, '', 0, a.received_at, a.received_at, 0, a.received_at + interval '1 day',
                CASE WHEN a.status = 'closed' THEN a.received_at + interval '3 days' END
            FROM intake_appeal a WHERE a.status IN ('closed', 'dispatched')
            """,
            {"units": units},
        )
        cur.execute(
            """
            INSERT INTO workorders_workorder_assisting_units (workorder_id, unit_id)
            SELECT w.id, (%(units)s::bigint[])[1 + (w.id + 3) %% cardinality(%(units)s::bigint[])]
            FROM workorders_workorder w WHERE w.id %% 7 = 0
            """,
            {"units": units},
        )
        cur.execute("UPDATE workorders_workorder SET number = 'GD' || id")
        cur.execute(
            "UPDATE intake_appeal a SET unit_id = w.unit_id FROM workorders_workorder w WHERE w.appeal_id = a.id"
        )
    from intake.models import appeal_scope_sql
    from workorders.models import work_order_scope_sql

    with connection.cursor() as cur:
        cur.execute(work_order_scope_sql("true"))
        cur.execute(appeal_scope_sql("a2.unit_id IS NOT NULL"))
        cur.execute(
            """
            INSERT INTO surveys_servicerecord (external_id, served_at, officer_code, citizen_phone,
                citizen_phone_hash, source, state, skip_reason, created_at, business_type_id, unit_id)
            SELECT 'SR' || g, now() - make_interval(mins => g * 2), '', '', md5('sr' || g), 'push',
                CASE WHEN g %% 10 = 0 THEN 'pending' ELSE 'sent' END, '', now(),
                (SELECT min(id) FROM surveys_businesstype),
                (%(units)s::bigint[])[1 + g %% cardinality(%(units)s::bigint[])]
            FROM generate_series(1, %(n)s) g
            """,
            {"n": N, "units": units},
        )
        cur.execute(
            """
            INSERT INTO sms_outboundsms (phone, phone_hash, template_code, params, text, segments, purpose,
                status, send_after, next_attempt_at, attempts, backend, needs_reconciliation, last_error,
                created_at, updated_at, reconcile_checks, reconcile_not_found, service_record_id, sent_at)
            SELECT '', r.citizen_phone_hash, 'evaluation', '{}', '请回复1满意2基本满意3不满意', 1, 'evaluation',
                'delivered', r.served_at, r.served_at, 1, 'console', false, '', r.served_at, r.served_at, 0, 0,
                r.id, r.served_at + interval '1 day'
            FROM surveys_servicerecord r
            """
        )
        cur.execute(
            """
            INSERT INTO surveys_rating (verdict, text, aspect, aspect_text, source, phone_hash, rated_at,
                device_hash, folds, phone, tags, unit_id, sms_id, service_record_id)
            SELECT CASE WHEN s.id % 10 = 0 THEN 'dissatisfied' ELSE 'satisfied' END, '', '', '', 'sms',
                s.phone_hash, s.sent_at + interval '1 hour', '', 0, '', '[]', r.unit_id, s.id, r.id
            FROM sms_outboundsms s JOIN surveys_servicerecord r ON r.id = s.service_record_id
            """
        )
        cur.execute(
            """
            INSERT INTO surveys_callback (status, due_at, attempts, unreached, reason, verdict, created_at,
                rating_id, unit_id)
            SELECT CASE WHEN r.id % 50 = 0 THEN 'open' ELSE 'closed' END, r.rated_at + interval '2 days',
                0, 0, '', '', r.rated_at, r.id, r.unit_id
            FROM surveys_rating r WHERE r.verdict = 'dissatisfied'
            """
        )
        for table in (*BIG, "workorders_workorder_assisting_units", "workorders_scopeentry"):
            cur.execute(f"ANALYZE {table}")


def _scan_problems(node: dict, *, cap: float | None = None) -> list[str]:
    """Seq scans of big tables and scans estimated to read too many rows, under ``node``."""
    kind = node["Node Type"]
    problems = []
    relation = node.get("Relation Name", "")
    if kind == "Seq Scan" and relation in BIG:
        # Only a scan under a LIMIT that stops early is bounded: it reads about cap / selectivity rows.
        read = cap * _table_rows(relation) / max(node["Plan Rows"], 1) if cap is not None else float("inf")
        if read > MAX_ROWS_READ:
            problems.append(f"Seq Scan on {relation}")
        return problems
    if kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan") and (
        relation in BIG or node.get("Index Name", "").split("_")[0] in ("appeal", "workorder", "intake", "surveys")
    ):
        rows = node["Plan Rows"]
        if cap is not None and kind != "Bitmap Index Scan":
            rows = min(rows, cap)
        if rows > MAX_ROWS_READ:
            problems.append(f"{kind} on {relation or node.get('Index Name')} reads ~{int(rows)} rows")
    if kind == "Limit":
        cap = node["Plan Rows"]
    elif kind in ("Sort", "Hash", "Aggregate", "Bitmap Heap Scan", "Unique", "Materialize", "Hash Join"):
        # These consume their whole input before (or while) producing the first row.
        cap = None if kind != "Bitmap Heap Scan" else cap
    for child in node.get("Plans", []):
        problems += _scan_problems(child, cap=cap)
    return problems


def _table_rows(table: str) -> float:
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return max(cur.fetchone()[0], 1)


def _check(label: str, qs, failures: list[str]) -> None:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cur.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    for problem in _scan_problems(plan[0]["Plan"]):
        failures.append(f"{label}: {problem}")


def _desk_querysets(user, params: dict) -> list:
    """What DeskView.get builds: the page query and the bounded count per status."""
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    base = Appeal.objects.visible_to(user).select_related("category", "category__parent", "unit")
    # The page from what the desk lists (a unit user's 全部 and 已办结 from his unit's entries).
    listed = AppealFilter(query, queryset=intake_selectors.desk_source(user, query)).qs
    page = intake_selectors.desk_rows(listed)[:51]
    without = query.copy()
    without.pop("status", None)
    counted = AppealFilter(without, queryset=base).qs.order_by()
    cap = intake_selectors.COUNT_CAP
    counts = [counted.filter(status=s)[: cap + 1] for s in intake_selectors.COUNTED_STATUSES]
    return [page, *counts]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_every_list_query_uses_an_index_and_reads_a_bounded_number_of_rows(center, handler, leader, supervisor):
    from django.test import RequestFactory

    _generate()
    failures: list[str] = []
    day = (timezone.localdate() - timedelta(days=30)).isoformat()
    category = Category.objects.filter(parent__isnull=False).first()
    filters = [
        {"status": "new"},
        {"status": "pending_dispatch"},
        {"status": "dispatched"},
        {"status": "closed"},
        {},
        {"status": "dispatched", "received_after": day},
        {"status": "closed", "category": str(category.pk), "channel": "12345", "severity": "red"},
        {"status": "new", "q": "噪音"},
        {"status": "closed", "q": "消防通道"},
        {"q": "烧烤"},
    ]
    for user in (center, handler, leader):
        for params in filters:
            for i, qs in enumerate(_desk_querysets(user, params)):
                _check(f"desk as {user.username} {params} #{i}", qs, failures)

    # The API appeals list: same filter, newest first, one keyset page (a unit user's from his
    # unit's entries).
    for user in (center, handler):
        qs = Appeal.objects.visible_to(user).select_related("category", "category__parent", "unit")
        ordered = qs.order_by("-received_at", "-id")
        if intake_selectors.entry_scope(user) is not None:
            ordered = intake_selectors.seen_in_order(user).order_by(*intake_selectors.ENTRY_NEWEST_FIRST)
        _check(f"api appeals as {user.username}", ordered[:51], failures)

    # Workspace tabs, their counts, the review lists and the home panels.
    now = timezone.now()
    for user in (center, handler, leader):
        for tab in wo_selectors.TAB_KEYS:
            qs, ordering = wo_selectors.tab_orders(user, tab, now=now)
            _check(f"workspace {tab} as {user.username}", qs.order_by(*ordering)[:51], failures)
            if tab in wo_selectors.COUNTED_TABS:
                counted = wo_selectors.WorkOrder.objects.visible_to(user).filter(wo_selectors.tab_filter(tab, now=now))
                _check(f"workspace count {tab} as {user.username}", counted.order_by()[:1001], failures)
    for name in ("review_queue", "extension_queue", "approved_queue", "listed_orders"):
        _check(f"review {name}", getattr(wo_selectors, name)(center)[:200], failures)

    # Surveys lists as their views build them (FilteredListView: filter, then one page).
    rf = RequestFactory()
    for label, model, filterset, params in (
        ("callback desk", Callback, CallbackFilter, {}),
        ("sms outbox", OutboundSms, OutboundSmsFilter, {"status": "delivered"}),
        ("service records", ServiceRecord, ServiceRecordFilter, {"state": "pending"}),
        ("service records, all", ServiceRecord, ServiceRecordFilter, {}),
    ):
        request = rf.get("/", params)
        qs = filterset(request.GET or None, queryset=model.objects.visible_to(supervisor)).qs
        if model is Callback:
            qs = qs.open().order_by("due_at", "id")
        _check(f"{label} page", qs[:50], failures)
        _check(f"{label} count", qs.order_by()[: surveys_selectors.LIST_COUNT_CAP + 1], failures)
    _check("callback desk selector", surveys_selectors.callbacks_for_desk(center)[:50], failures)

    # Caller look-up and reply matching.
    caller = phone_hash(PHONE)
    history = Appeal.objects.visible_to(center).filter(citizen_phone_hash=caller).order_by("-received_at", "-id")
    _check("caller look-up", history[:20], failures)
    sent = OutboundSms.objects.order_by("-sent_at").values_list("phone_hash", "sent_at").first()
    matching = OutboundSms.objects.filter(
        phone_hash=sent[0],
        purpose__in=("evaluation", "follow_up", "survey"),
        sent_at__gte=sent[1] - timedelta(hours=72),
        sent_at__lte=sent[1] + timedelta(minutes=5),
    ).order_by("-sent_at", "-id")[:1]
    _check("reply matching", matching, failures)

    assert not failures, "\n".join(failures)


def _rows_fetched(qs, table: str) -> tuple[int, str]:
    """Rows the scans of ``table`` fetched running ``qs`` (EXPLAIN ANALYZE): what they returned
    plus what their filters threw away, the largest over the plan's scans of that table; and the
    plan's scans, to say what went wrong."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cur.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    fetched, stack, scans = 0, [plan[0]["Plan"]], []
    while stack:
        node = stack.pop()
        stack.extend(node.get("Plans", []))
        if "Scan" in node["Node Type"]:
            scans.append(f"{node['Node Type']} {node.get('Index Name') or node.get('Relation Name')}")
        if node.get("Relation Name") == table:
            read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            fetched = max(fetched, (read + node.get("Rows Removed by Index Recheck", 0)) * node["Actual Loops"])
    return fetched, "; ".join(scans)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_unit_scoped_open_lists_read_the_open_orders_not_the_units_history(handler, leader, center):
    """A station's workspace tabs of open orders, their counts, the 待签收 menu count and the home
    panel read the station's open orders (its entries in ``scope_open_tab``), not its
    closed history, which grows every year; a deep keyset page reads a page, not what precedes it."""
    from workorders.choices import OPEN_STATUSES
    from workorders.models import WorkOrder
    from workorders.nav import awaiting_signature

    _generate()
    now = timezone.now()
    for user in (handler, leader):
        visible = WorkOrder.objects.visible_to(user)
        in_scope, open_in_scope = visible.count(), visible.filter(status__in=OPEN_STATUSES).count()
        assert in_scope > 4 * open_in_scope > 0  # mostly closed history, as a real one
        queries = {"menu 待签收": awaiting_signature(user).order_by().values("pk")[:100]}
        for tab in wo_selectors.COUNTED_TABS:
            # What the workspace runs: the tab's page in its order, and its bounded count.
            qs, ordering = wo_selectors.tab_orders(user, tab, now=now)
            queries[f"tab {tab}"] = qs.order_by(*ordering)[:51]
            queries[f"count {tab}"] = wo_selectors.in_tab(user, tab, now=now).order_by()[: wo_selectors.COUNT_CAP + 1]
        for label, qs in queries.items():
            read, scans = _rows_fetched(qs, "workorders_workorder")
            assert read <= open_in_scope + 51, (
                f"{label} as {user.username}: {read} rows read ({scans}); {in_scope} in scope, {open_in_scope} open"
            )

    # Page 40 of the closed tab starts at its cursor in the index.
    ordering = wo_selectors.TAB_ORDERING["closed"]
    qs = wo_selectors.orders_for(center).filter(wo_selectors.tab_filter("closed")).order_by(*ordering)
    closed_at, pk = qs.values_list("closed_at", "id")[2000]
    deep = wo_selectors.after_cursor(qs, ordering, f"{closed_at.isoformat()}|{pk}")[:51]
    read, scans = _rows_fetched(deep, "workorders_workorder")
    assert read <= 2 * 51, f"a deep page read {read} rows ({scans})"


def test_surveys_list_pages_count_with_a_limit(supervisor):
    """The SMS, service-record and callback lists page with a count that stops at the cap."""
    from django.test.utils import CaptureQueriesContext

    from surveys.views import FilteredListView

    assert FilteredListView.paginator_class is surveys_selectors.BoundedPaginator
    paginator = surveys_selectors.BoundedPaginator(ServiceRecord.objects.visible_to(supervisor), 50)
    with CaptureQueriesContext(connection) as ctx:
        assert paginator.count == 0
    assert f"LIMIT {surveys_selectors.LIST_COUNT_CAP + 1}" in ctx.captured_queries[-1]["sql"]


def _plan(qs, *, analyze: bool = False) -> dict:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) {sql}", params)
        plan = cur.fetchone()[0]
    return (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _appeal_scans(plan: dict) -> list[dict]:
    """The plan's scans of intake_appeal and of its indexes."""
    return [
        n
        for n in _nodes(plan)
        if n.get("Relation Name") == "intake_appeal" or n.get("Index Name", "").startswith(("appeal_", "intake_appeal"))
    ]


def _summary(plan: dict) -> list[tuple]:
    keys = ("Index Cond", "Recheck Cond", "Filter")
    return [
        (n["Node Type"], n.get("Index Name", n.get("Relation Name", "")), n.get("Actual Rows"))
        + tuple(n[k][:160] for k in keys if k in n)
        for n in _nodes(plan)
    ]


def _desk_qs(user, params: dict):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    base = Appeal.objects.visible_to(user).select_related("category", "category__parent", "unit")
    return AppealFilter(query, queryset=base).qs


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_a_text_search_reads_a_window_of_its_matches_not_their_whole_history(center, handler):
    """噪音 is in ~5 % of the 50k appeals (2,500 rows over three years). The desk and the API read
    a page of it newest first from the time-blocked search index: each query the search runs (the
    window probes, then the page) uses appeal_search_terms, fetches at most a few hundred rows, and
    never the word's 2,500."""
    from django.test.utils import CaptureQueriesContext

    _generate()
    total = Appeal.objects.filter(content__contains="噪音").count()
    assert total > 2000
    for user, params in (
        (center, {"q": "噪音"}),
        (center, {"q": "消防通道"}),
        (center, {"q": "夜间 噪音"}),
        (handler, {"q": "噪音"}),
        (center, {"status": "closed", "q": "噪音"}),
    ):
        qs = _desk_qs(user, params)
        with CaptureQueriesContext(connection) as ctx:
            page = intake_selectors.search_page(qs, size=50)
        assert page.items, params
        assert [a.received_at for a in page.items] == sorted((a.received_at for a in page.items), reverse=True)
        searches = [q["sql"] for q in ctx.captured_queries if "appeal_search_terms" in q["sql"]]
        assert searches, params
        # Each window is read as the page itself: no count of a window before reading it again.
        assert not any(sql.startswith("SELECT COUNT(") for sql in searches), (params, searches)
        window = intake_selectors.search_window(qs, need=51)
        assert page.items == list(window.order_by(*intake_selectors.NEWEST_FIRST)[:50]), params
        # The page query itself, re-run under EXPLAIN ANALYZE: rows actually fetched, not estimates.
        plan = _plan(window.order_by(*intake_selectors.NEWEST_FIRST)[:51], analyze=True)
        scans = _appeal_scans(plan)
        # The time window is a condition inside the search index, not a filter on fetched rows.
        assert any(n.get("Index Name") == "appeal_search_terms" and "&&" in n.get("Index Cond", "") for n in scans), (
            params,
            _summary(plan),
        )
        assert not any(n["Node Type"] == "Seq Scan" for n in scans), params
        heap = [n for n in scans if n.get("Relation Name") == "intake_appeal"]
        fetched = max(
            (n["Actual Rows"] + n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Index Recheck", 0))
            * n.get("Actual Loops", 1)
            for n in heap
        )
        assert fetched <= total // 4, (params, fetched, total, _summary(plan))
    # The second page goes on from the first page's last row, in the same order.
    qs = _desk_qs(center, {"q": "噪音"})
    first = intake_selectors.search_page(qs, size=50)
    second = intake_selectors.search_page(qs, cursor=first.next_cursor, size=50)
    assert second.items and second.items[0].received_at <= first.items[-1].received_at
    assert not {a.pk for a in first.items} & {a.pk for a in second.items}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_a_filter_combination_seeks_in_desk_order_instead_of_reading_the_category_history(center):
    """Category, severity and a received range are one index range in desk order: the scan reads
    a page's worth of rows under the LIMIT, not every appeal of the category or of the range."""
    _generate()
    category = Appeal.objects.values_list("category_id", flat=True).first()
    today = timezone.localdate()
    params = {
        "category": str(category),
        "severity": "yellow",
        "channel": "hotline",
        "received_after": (today - timedelta(days=90)).isoformat(),
        "received_before": today.isoformat(),
    }
    qs = _desk_qs(center, params).order_by(*intake_selectors.DESK_ORDER)[:51]
    plan = _plan(qs, analyze=True)
    scans = _appeal_scans(plan)
    assert not any(n["Node Type"] == "Seq Scan" for n in scans)
    seek = [n for n in scans if "severity_rank" in n.get("Index Cond", "") and "received_at" in n.get("Index Cond", "")]
    assert seek, plan
    assert all("intake_appeal_category_id" not in n.get("Index Name", "") for n in scans)
    fetched = max(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans)
    assert fetched <= 500, fetched
    # The open status counts of the same filters read the category's open appeals of the status,
    # severity and period, not every category's (the status index and a filter).
    _page, *counts = _desk_querysets(center, params)
    for count in counts:
        scans = _appeal_scans(_plan(count, analyze=True))
        fetched = sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans)
        assert fetched <= 20, _summary(_plan(count, analyze=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_unit_scoped_growing_lists_read_a_page_in_order_not_the_units_history(handler, leader, district):
    """已办结, 已退单 and 全部 of a station or a district, and the API list of a unit's orders, grow
    with every year. Each first and deep page reads its rows in order from the unit's
    ``ScopeEntry`` index: no sort, about a page of entries and of orders fetched, whatever the unit
    holds; and the same orders in the same order as the visibility rule and the tab's order."""
    from units.choices import Role
    from units.models import User
    from workorders.models import WorkOrder

    _generate()
    with connection.cursor() as cur:  # some handed back (the generated history has none)
        cur.execute("UPDATE workorders_workorder SET status = 'handed_back', closed_at = NULL WHERE id % 4 = 1")
        cur.execute("ANALYZE workorders_workorder")
        cur.execute("ANALYZE workorders_scopeentry")
    district_leader = User.objects.create_user("plan_district", role=Role.UNIT_LEADER, unit=district, password="x")
    for user in (handler, leader, district_leader):
        in_scope = WorkOrder.objects.visible_to(user).count()
        assert in_scope > 1000, in_scope  # a real history to sort, were it sorted
        lists = {
            tab: (*wo_selectors.tab_orders(user, tab), wo_selectors.TAB_ORDERING[tab], wo_selectors.tab_filter(tab))
            for tab in wo_selectors.ENTRY_TABS
        }
        lists["api"] = (wo_selectors.seen_in_order(user, "dispatched_at"), wo_selectors.ENTRY_ORDERING)
        lists["api"] += (("-dispatched_at", "-id"), Q())
        for label, (qs, ordering, rule_ordering, condition) in lists.items():
            assert ordering == wo_selectors.ENTRY_ORDERING, label
            rule = WorkOrder.objects.visible_to(user).filter(condition).order_by(*rule_ordering)
            ordered = qs.order_by(*ordering)
            pages = {"first page": (ordered[:51], rule[:51])}
            if rule[600:601]:
                # Page 13 (50 rows a page) from its cursor: starts there in the index.
                row = ordered[599]
                cursor = wo_selectors.cursor_of(row, ordering)
                deep = wo_selectors.after_cursor(ordered, ordering, cursor)[:51]
                pages["deep page"] = (deep, rule[600:651])
            for page_label, (page, expected) in pages.items():
                where = f"{label} {page_label} as {user.username}"
                assert [o.pk for o in page] == [o.pk for o in expected], where
                plan = _plan(page, analyze=True)
                sorts = [n["Node Type"] for n in _nodes(plan) if "Sort" in n["Node Type"]]
                assert not sorts, (where, _summary(plan))
                for table in ("workorders_scopeentry", "workorders_workorder"):
                    read, scans = _rows_fetched(page, table)
                    assert read <= 2 * 51, f"{where}: {read} rows of {table} read ({scans}); {in_scope} in scope"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_a_units_appeal_lists_read_a_page_in_order_not_the_units_history(handler, leader, district, api):
    """The desk's 全部 and 已办结 of a station or a district, and the API list of its appeals, grow
    with every year. Each first and deep page reads its rows in order from the unit's
    ``AppealScopeEntry`` index: no sort, about a page of entries and of appeals fetched, whatever
    the unit holds; and the same appeals in the same order as the visibility rule, through the
    views too (the desk's rows and next page, the API's next link)."""
    from django.urls import reverse

    from units.choices import Role
    from units.models import User

    _generate()
    district_leader = User.objects.create_user("plan_district", role=Role.UNIT_LEADER, unit=district, password="x")
    desk_order, newest = intake_selectors.DESK_ORDER, intake_selectors.NEWEST_FIRST
    for user in (handler, leader, district_leader):
        seen = Appeal.objects.visible_to(user)
        in_scope = seen.count()
        assert in_scope > 1000, in_scope  # a real history to sort, were it sorted
        lists = {}
        for tab, status in (("全部", None), ("已办结", "closed")):
            query = QueryDict(mutable=True)
            if status:
                query["status"] = status
            source = intake_selectors.desk_source(user, query)
            rule = seen.filter(status=status) if status else seen
            lists[f"desk {tab}"] = (AppealFilter(query, queryset=source).qs, rule.order_by(*desk_order), "desk")
        lists["api"] = (intake_selectors.seen_in_order(user), seen.order_by(*newest), "api")
        for label, (qs, rule, kind) in lists.items():
            assert intake_selectors.is_entry_list(qs), label
            if kind == "desk":
                first = intake_selectors.desk_rows(qs)[:51]
                cursor = intake_selectors.encode_cursor(rule[599])
                deep = intake_selectors.desk_rows(qs, cursor=cursor)[:51]
            else:
                # As the API's cursor pagination filters: the entry's ``list_at`` before the cursor's.
                ordered = qs.order_by(*intake_selectors.ENTRY_NEWEST_FIRST)
                first = ordered[:51]
                deep = ordered.filter(list_at__lt=rule[599].received_at)[:51]
            for page_label, page, expected in (("first page", first, rule[:51]), ("deep page", deep, rule[600:651])):
                where = f"{label} {page_label} as {user.username}"
                assert [a.pk for a in page] == [a.pk for a in expected], where
                plan = _plan(page, analyze=True)
                sorts = [n["Node Type"] for n in _nodes(plan) if "Sort" in n["Node Type"]]
                assert not sorts, (where, _summary(plan))
                for table in ("intake_appealscopeentry", "intake_appeal"):
                    read, scans = _rows_fetched(page, table)
                    assert read <= 2 * 51, f"{where}: {read} rows of {table} read ({scans}); {in_scope} in scope"

        # Through the views: the desk's 全部 pages and the API's, as the rule orders them.
        client = api.as_user(user)
        client.force_login(user)
        response = client.get(reverse("intake:desk"), {"status": "all"})
        assert [a.pk for a in response.context["appeals"]] == list(
            seen.order_by(*desk_order)[:50].values_list("pk", flat=True)
        )
        response = client.get(reverse("intake:desk") + response.context["next_url"])
        expected = list(seen.order_by(*desk_order)[50:100].values_list("pk", flat=True))
        assert [a.pk for a in response.context["appeals"]] == expected
        body = client.get("/api/v1/appeals/").json()
        assert [a["id"] for a in body["results"]] == list(seen.order_by(*newest)[:50].values_list("pk", flat=True))
        body = client.get(body["next"]).json()
        assert [a["id"] for a in body["results"]] == list(seen.order_by(*newest)[50:100].values_list("pk", flat=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_a_reply_is_matched_by_reading_the_window_not_every_sms_the_phone_ever_got():
    """A number that got an evaluation SMS every other day for three years: matching its reply
    reads the SMS of the reply window (newest first), not the 550 others (the phone's index, or
    the phone-and-purpose one, read them all and filtered them by time)."""
    caller = phone_hash("+8613800000078")
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO sms_outboundsms (phone, phone_hash, template_code, params, text, segments, purpose,
                status, send_after, next_attempt_at, attempts, backend, needs_reconciliation, last_error,
                created_at, updated_at, reconcile_checks, reconcile_not_found, sent_at)
            SELECT '', %s, 'evaluation', '{}', '请回复1满意2基本满意3不满意', 1, 'evaluation', 'delivered',
                t, t, 1, 'console', false, '', t, t, 0, 0, t
            FROM (SELECT now() - make_interval(days => 2 * g) AS t FROM generate_series(1, 550) g) s
            """,
            [caller],
        )
        cur.execute("ANALYZE sms_outboundsms")
    received = timezone.now() - timedelta(days=100)
    matching = OutboundSms.objects.filter(
        phone_hash=caller,
        purpose__in=("evaluation", "follow_up", "appeal_closed", "survey"),
        sent_at__gte=received - timedelta(hours=72),
        sent_at__lte=received + timedelta(minutes=5),
    ).order_by("-sent_at", "-id")
    plan = _plan(matching[:1], analyze=True)
    scans = [n for n in _nodes(plan) if n.get("Relation Name") == "sms_outboundsms"]
    read = sum(n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0) for n in scans)
    assert scans and read <= 3, _summary(plan)
    assert matching.first().sent_at <= received
