"""Benchmark: every staff page and list endpoint of issue 9, through gunicorn, as the right role.

For each database named, the script starts gunicorn (the project's gunicorn.conf.py, 2 sync
workers, 127.0.0.1 only, DEBUG off), logs in through the login form (center staff ``center``,
the station handler ``handler`` of 滨江派出所 and its leader ``leader``), requests each page as 1 and then 4 concurrent users
(a thread and a session each; one untimed request first), and prints p50/p95 per page. The
hotline caller look-up and the inbound-reply matching are also timed as queries, in process.
With two databases it prints the ratio of the second's p50 to the first's. Nothing is written
except the rankings and bulletins the compute/generate pages save.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_bench1m REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/pages.py --compare oc_bench1m,oc_bench10m

The databases are filled by ``bench/generate.py``. Pages slower than the gunicorn timeout
(``--timeout``, 120 s here instead of the product's 30 s, so slow pages are measured rather than
killed) count as errors. Each page gets at most ``--runs`` requests per user and ``--budget``
seconds per concurrency level.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

from bench.httpbench import database_url, login, machine_load, median, percentile, run_users, serve  # noqa: E402


def page_list(ids: dict, today: dt.date) -> list[tuple[str, str, str, str, dict]]:
    """(label, role, method, path, params or form data) of every page measured."""
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    last_month = last_month_end.replace(day=1)
    year_start = today - dt.timedelta(days=364)
    month = {"period": "month"}
    return [
        ("dashboard, this month", "center", "GET", "/analytics/", month),
        (
            "dashboard, a past month",
            "center",
            "GET",
            "/analytics/",
            {"period": "custom", "start": f"{last_month}", "end": f"{last_month_end}"},
        ),
        (
            "dashboard, the year",
            "center",
            "GET",
            "/analytics/",
            {"period": "custom", "start": f"{year_start}", "end": f"{today}"},
        ),
        (
            "dashboard, a past quarter",
            "center",
            "GET",
            "/analytics/",
            {"period": "custom", "start": f"{months_back(today, 3)}", "end": f"{last_month_end}"},
        ),
        ("dashboard drill-down, a district", "center", "GET", "/analytics/", {**month, "unit": ids["district"]}),
        ("dashboard drill-down, a station", "center", "GET", "/analytics/", {**month, "unit": ids["station"]}),
        ("desk as a station's handler", "handler", "GET", "/appeals/", {}),
        ("desk as a station's handler, all statuses", "handler", "GET", "/appeals/", {"status": "all"}),
        ("API appeals list as a station's handler", "handler", "GET", "/api/v1/appeals/", {}),
        ("workspace, to sign (handler)", "handler", "GET", "/workorders/", {"tab": "to_sign"}),
        ("workspace, in progress (handler)", "handler", "GET", "/workorders/", {"tab": "in_progress"}),
        ("workspace, to sign (station leader)", "leader", "GET", "/workorders/", {"tab": "to_sign"}),
        ("workspace, closed (handler)", "handler", "GET", "/workorders/", {"tab": "closed"}),
        ("workspace, all (center)", "center", "GET", "/workorders/", {"tab": "all"}),
        ("home page, menu counts and panels (handler)", "handler", "GET", "/", {}),
        ("home page, menu counts and panels (center)", "center", "GET", "/", {}),
        ("center review list", "center", "GET", "/workorders/review/", {}),
        ("callback desk", "center", "GET", "/surveys/callbacks/", {}),
        ("API callbacks", "center", "GET", "/api/v1/callbacks/", {}),
        ("API work orders as a station's handler", "handler", "GET", "/api/v1/work-orders/", {}),
        (
            "desk with a filter combination",
            "center",
            "GET",
            "/appeals/",
            {
                "status": "all",
                "channel": "hotline",
                "category": ids["category"],
                "severity": "yellow",
                "received_after": f"{today - dt.timedelta(days=90)}",
                "received_before": f"{today}",
            },
        ),
        ("desk search, two characters (噪音)", "center", "GET", "/appeals/", {"status": "all", "q": "噪音"}),
        ("desk search, four characters (消防通道)", "center", "GET", "/appeals/", {"status": "all", "q": "消防通道"}),
        ("desk page 1 as center staff (all statuses)", "center", "GET", "/appeals/", {"status": "all"}),
        ("service records list", "center", "GET", "/surveys/records/", {}),
        ("SMS outbox list", "center", "GET", "/sms/outbox/", {}),
        ("evaluation overview (回访评价)", "center", "GET", "/surveys/", {}),
        (
            "hotline caller look-up (page fragment)",
            "center",
            "POST",
            "/appeals/caller-history/",
            {"citizen_phone": ids["phone"]},
        ),
        # Each request computes a month (or day) not computed before: a bulletin already generated
        # is only looked up, and the demo's published ranking of last month would be refused.
        *[
            (
                f"red/black list computation, {tier}",
                "center",
                "POST",
                "/analytics/rankings/compute/",
                lambda n, tier=tier: {"month": f"{months_back(today, 2 + n):%Y-%m}", "tier": tier},
            )
            for tier in ("station", "district", "department")
        ],  # fmt: skip
        (
            "monthly bulletin",
            "center",
            "POST",
            "/analytics/bulletins/generate/",
            lambda n: {"kind": "monthly", "on": f"{months_back(today, 1 + n)}"},
        ),  # fmt: skip
        (
            "weekly bulletin",
            "center",
            "POST",
            "/analytics/bulletins/generate/",
            lambda n: {"kind": "weekly", "on": f"{today - dt.timedelta(days=7 * (1 + n))}"},
        ),  # fmt: skip
        (
            "daily bulletin",
            "center",
            "POST",
            "/analytics/bulletins/generate/",
            lambda n: {"kind": "daily", "on": f"{today - dt.timedelta(days=1 + n)}"},
        ),  # fmt: skip
    ]


def months_back(day: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months before ``day``'s."""
    index = day.year * 12 + day.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def setup_django(db_name: str):
    """Django in this process pointed at ``db_name`` (for ids and the in-process query timings)."""
    import django
    from django.conf import settings

    if not settings.configured or not hasattr(settings, "_bench_ready"):
        os.environ["DATABASE_URL"] = database_url(db_name)
        django.setup()
        settings._bench_ready = True
    from django.db import connection

    connection.close()
    settings.DATABASES["default"]["NAME"] = db_name
    connection.settings_dict["NAME"] = db_name


def reference_ids() -> dict:
    from intake.models import Appeal, Category
    from units.models import Unit

    latest = Appeal.objects.exclude(citizen_phone="").order_by("-received_at").first()
    return {
        "district": Unit.objects.get(code="LJ100").pk,
        "station": Unit.objects.get(code="LJ101").pk,
        "category": Category.objects.get(code="ORDER-NOISE").pk,
        # A caller of the pool: the number typed into the hotline form.
        "phone": latest.citizen_phone.replace("+86", ""),
    }


def query_timings(samples: int) -> list[tuple[str, list[float]]]:
    """The caller look-up and the inbound-reply matching, as the product runs them, in process."""
    import datetime

    from django.conf import settings
    from django.db import connection

    from intake import selectors
    from sms.choices import SmsPurpose
    from sms.models import InboundSms, OutboundSms
    from surveys.services.replies import MATCHABLE
    from units.models import User

    center = User.objects.get(username="center")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT citizen_phone_hash FROM intake_appeal TABLESAMPLE SYSTEM (1) WHERE citizen_phone_hash <> '' LIMIT %s",
            [samples],
        )
        hashes = [r[0] for r in cursor.fetchall()]
    replies = list(InboundSms.objects.order_by("?").values_list("phone_hash", "received_at")[:samples])
    lookup, matching = [], []
    for digest in hashes:
        t0 = time.perf_counter()
        selectors.caller_history(digest, user=center, limit=10)
        lookup.append((time.perf_counter() - t0) * 1000)
    for digest, received in replies:
        since = received - datetime.timedelta(hours=settings.SURVEYS_REPLY_WINDOW_HOURS)
        t0 = time.perf_counter()
        (
            OutboundSms.objects.filter(
                phone_hash=digest,
                purpose__in=(*MATCHABLE, SmsPurpose.SURVEY),
                sent_at__gte=since,
                sent_at__lte=received + datetime.timedelta(minutes=5),
            )
            .order_by("-sent_at", "-id")
            .first()
        )
        matching.append((time.perf_counter() - t0) * 1000)
    return [
        ("query: caller look-up (center staff)", lookup),
        ("query: inbound reply matching", matching),
        *desk_query_timings(max(5, samples // 10)),
    ]


def desk_query_timings(runs: int) -> list[tuple[str, list[float]]]:
    """The desk's search and filter combination as DeskView runs them (page and probes, without
    the template), in process: the database's share of those pages."""
    from django.http import QueryDict

    from intake import selectors
    from intake.filters import AppealFilter
    from intake.models import Appeal, Category
    from units.models import User

    today = dt.date.today()
    category = Category.objects.get(code="ORDER-NOISE").pk
    cases = [
        ("center", {"q": "噪音"}),
        ("center", {"q": "消防通道"}),
        ("center", {"q": "噪音", "status": "new"}),
        ("handler", {"q": "噪音"}),
        (
            "center",
            {
                "channel": "hotline",
                "category": str(category),
                "severity": "yellow",
                "received_after": f"{today - dt.timedelta(days=90)}",
                "received_before": f"{today}",
            },
        ),
    ]
    out = []
    for username, params in cases:
        user = User.objects.get(username=username)
        query = QueryDict(mutable=True)
        for key, value in params.items():
            query[key] = value
        without = query.copy()
        without.pop("q", None)
        base = Appeal.objects.visible_to(user).select_related("category", "category__parent", "unit")
        timings = []
        for _ in range(runs):
            t0 = time.perf_counter()
            qs = AppealFilter(query, queryset=base).qs
            unsearched = AppealFilter(without, queryset=base).qs if "q" in query else None
            page = selectors.queue_page(qs, text=query.get("q"), size=50, unsearched=unsearched)
            len(page.items)
            timings.append((time.perf_counter() - t0) * 1000)
        label = "search " + query["q"] if "q" in query else "filter combination"
        extra = f", status {query['status']}" if "status" in query else ""
        out.append((f"query: desk {label} as {username}{extra}", timings))
    return out


def measure(db_name: str, args) -> dict:
    setup_django(db_name)
    from intake.models import Appeal

    ids = reference_ids()
    total = Appeal.objects.count()
    print(
        f"\n== {db_name}: {total:,} appeals; {machine_load()}; {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        flush=True,
    )
    results: dict[str, dict] = {}
    for label, samples in query_timings(args.query_samples):
        results[label] = {"1": {"p50": median(samples), "p95": percentile(samples, 95), "n": len(samples)}}
        print(f"  {label:<48} p50 {median(samples):8.2f} ms  p95 {percentile(samples, 95):8.2f} ms", flush=True)
    pages = page_list(ids, dt.date.today())
    if args.only:
        pages = [p for p in pages if any(word in p[0] for word in args.only.split(","))]
    with serve(database_url(db_name), port=args.port, timeout=args.timeout) as base:
        roles = sorted({page[1] for page in pages})
        sessions = {role: [login(base, role) for _ in range(max(args.users))] for role in roles}
        for label, role, method, path, data in pages:
            counter = itertools.count()

            def call(session, method=method, path=path, data=data, counter=counter):
                if callable(data):
                    data = data(next(counter))
                if method == "GET":
                    return session.get(base + path, params=data, timeout=args.timeout + 5)
                return session.post(base + path, data=data, timeout=args.timeout + 5, allow_redirects=False)

            t0 = time.perf_counter()
            warm = call(sessions[role][0])
            warm_ms = (time.perf_counter() - t0) * 1000
            row = {"warm_ms": warm_ms, "warm_status": warm.status_code}
            line = f"  {label:<48}"
            for users in args.users:
                latencies, errors = run_users(call, sessions[role][:users], runs=args.runs, budget=args.budget)
                row[str(users)] = {
                    "p50": median(latencies),
                    "p95": percentile(latencies, 95),
                    "n": len(latencies),
                    "errors": errors,
                }
                line += f" | {users} user{'s' if users > 1 else ' '} p50 {median(latencies):8.0f} ms p95 {percentile(latencies, 95):8.0f} ms (n={len(latencies)}{', ' + str(len(errors)) + ' errors' if errors else ''})"
            if warm.status_code >= 400:
                line += f"  [HTTP {warm.status_code}]"
            results[label] = row
            print(line, flush=True)
    return {"database": db_name, "appeals": total, "load": machine_load(), "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", default="", help="two (or more) databases, comma-separated")
    parser.add_argument("--users", default="1,4", help="concurrency levels")
    parser.add_argument("--runs", type=int, default=10, help="requests per user and page at most")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per page and concurrency level")
    parser.add_argument("--timeout", type=int, default=120, help="gunicorn worker timeout, seconds")
    parser.add_argument("--port", type=int, default=8713)
    parser.add_argument("--query-samples", type=int, default=200)
    parser.add_argument("--only", default="", help="measure only pages whose label contains one of these words")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()
    args.users = [int(u) for u in args.users.split(",")]
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL (its server is used; the database names come from --compare).")
    names = [n for n in args.compare.split(",") if n] or [os.environ["DATABASE_URL"].rsplit("/", 1)[-1]]
    runs = [measure(name, args) for name in names]
    if len(runs) > 1:
        first, *rest = runs
        for other in rest:
            print(f"\n== ratio of p50, {other['database']} / {first['database']} (1 user; 4 users)")
            for label, row in other["results"].items():
                base = first["results"].get(label)
                if not base:
                    continue
                ratios = []
                for users in ("1", "4"):
                    if (
                        users in row
                        and users in base
                        and base[users]["p50"]
                        and base[users]["p50"] == base[users]["p50"]
                    ):
                        ratios.append(f"{row[users]['p50'] / base[users]['p50']:5.2f}×")
                print(f"  {label:<48} {' ; '.join(ratios)}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
