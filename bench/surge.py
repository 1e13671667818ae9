"""Benchmark: surges of known size and time in generated background traffic, and how the early
warning's surge detector (alerts.services.detect_surges) finds them.

Background: ``--places`` places × one category, each with its own daily mean (drawn from 0.2 to
``--max-rate`` appeals a day) and Poisson arrivals over ``--days`` days. Surges: ``--surges``
extra bursts of ``--size`` appeals spread over ``--spread`` hours, at a known place and time in
the second half. The detectors then run as time advances (every ``--step`` minutes, the beat's
interval in production is 5), with ``now=`` the simulated time; the benchmark prints, per surge,
the delay from its first appeal to the alert, and the false alerts (alerts at no surge) per month.

Everything happens in a scratch database (``<your database>_surge_bench``), created, migrated and
dropped by the benchmark:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oc_bench REDIS_URL=redis://127.0.0.1:6379/2 \\
        .venv/bin/python bench/surge.py --days 60 --places 20 --surges 6 --size 8
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

ROADS = ["人民路", "解放路", "中山路", "建设路", "文化路", "滨江路", "江南小区", "北湖社区", "青年路", "和平街"]


def poisson(rng: random.Random, mu: float) -> int:
    """A Poisson draw by counting exponential gaps (mu is small here)."""
    n, t = 0, rng.expovariate(1.0)
    while t < mu:
        n += 1
        t += rng.expovariate(1.0)
    return n


def place_names(n: int) -> list[str]:
    names = []
    for i in range(n):
        road = ROADS[i % len(ROADS)]
        names.append(road if i < len(ROADS) else f"第{i // len(ROADS) + 1}{road}")
    return names


def generate(*, rng, start, days, places, max_rate, surges, size, spread):
    """(background rows, surge list): each row is (received_at, address, is_surge_of)."""
    rows = []
    rates = {p: rng.uniform(0.2, max_rate) for p in places}
    for day in range(days):
        for place, rate in rates.items():
            for _ in range(poisson(rng, rate)):
                at = start + dt.timedelta(days=day, seconds=rng.uniform(0, 86400))
                rows.append((at, f"临江市滨江区{place}{rng.randint(1, 200)}号", None))
    plan = []
    first_day = days // 2
    for i in range(surges):
        place = places[rng.randrange(len(places))]
        at = start + dt.timedelta(
            days=first_day + i * (days - first_day - 2) // max(1, surges), hours=rng.uniform(0, 20)
        )
        plan.append((place, at))
        for _ in range(size):
            when = at + dt.timedelta(hours=rng.uniform(0, spread))
            rows.append((when, f"{place}{rng.randint(1, 200)}号附近", i))
    return rows, plan, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--places", type=int, default=20)
    parser.add_argument("--max-rate", type=float, default=3.0, help="the busiest place's daily mean")
    parser.add_argument("--surges", type=int, default=6)
    parser.add_argument("--size", type=int, default=8, help="appeals in one surge")
    parser.add_argument("--spread", type=float, default=6.0, help="hours a surge's appeals spread over")
    parser.add_argument("--step", type=int, default=30, help="minutes between detector runs")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    # A scratch database of its own, never the test database pytest keeps for --reuse-db.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{connection.settings_dict['NAME']}_surge_bench"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(test_name, verbosity=0)


def run(args) -> None:
    from alerts import services
    from alerts.choices import Detector
    from alerts.models import Alert, WarningRule
    from intake.models import Appeal, Category

    rng = random.Random(args.seed)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    places = place_names(args.places)
    category = Category.objects.create(code="BENCH", name="噪音扰民")
    rows, plan, _rates = generate(
        rng=rng,
        start=start,
        days=args.days,
        places=places,
        max_rate=args.max_rate,
        surges=args.surges,
        size=args.size,
        spread=args.spread,
    )
    Appeal.objects.bulk_create(
        [
            Appeal(channel="hotline", content="夜间噪音扰民", address=a, category=category, received_at=t)
            for t, a, _ in rows
        ],
        batch_size=2000,
    )
    WarningRule.objects.update_or_create(detector=Detector.SURGE, defaults=services.DEFAULTS[Detector.SURGE])
    rule = WarningRule.objects.get(detector=Detector.SURGE)
    print(
        f"background {sum(1 for r in rows if r[2] is None)} appeals over {args.days} days at {len(places)} places; "
        f"{len(plan)} surges of {args.size} over {args.spread} h; window {rule.window_hours} h, "
        f"baseline {rule.baseline_days} d, p < {rule.p_value}, min {rule.min_count}; a run every {args.step} min"
    )

    # Detect from the first moment a full baseline exists until the end.
    t = start + dt.timedelta(days=rule.baseline_days, hours=rule.window_hours)
    end = start + dt.timedelta(days=args.days)
    runs, spent = 0, 0.0
    while t <= end:
        began = time.perf_counter()
        services.run_detectors(now=t, only=[Detector.SURGE])
        spent += time.perf_counter() - began
        runs += 1
        t += dt.timedelta(minutes=args.step)

    from alerts.places import place_key

    alerts = list(Alert.objects.order_by("raised_at"))
    matched = set()
    print("surge  place       starts            delay")
    for i, (place, at) in enumerate(plan):
        key = f"{place_key(place)}|{category.pk}"
        hit = next((a for a in alerts if a.key == key and at <= a.raised_at <= at + dt.timedelta(hours=24)), None)
        if hit:
            matched.add(hit.pk)
            delay = (hit.raised_at - at).total_seconds() / 3600
            print(
                f"{i:5d}  {place:10s}  {at:%m-%d %H:%M}  {delay:5.1f} h (alert at {hit.observed} vs threshold {hit.threshold})"
            )
        else:
            print(f"{i:5d}  {place:10s}  {at:%m-%d %H:%M}  missed")
    watched_days = (
        end - (start + dt.timedelta(days=rule.baseline_days, hours=rule.window_hours))
    ).total_seconds() / 86400
    false = [a for a in alerts if a.pk not in matched]
    for a in false:
        print(
            f"false alert {a.raised_at:%m-%d %H:%M} {a.place}: {a.observed} vs threshold {a.threshold} (mean {a.expected})"
        )
    print(
        f"detected {len(matched)}/{len(plan)}; false alerts {len(false)} in {watched_days:.1f} days "
        f"= {len(false) / watched_days * 30:.2f} per month; {runs} detector runs, {spent / runs * 1000:.1f} ms each"
    )


if __name__ == "__main__":
    main()
