"""Scenario 1: feed pushes while things die.

A platform pushes N signed appeals to gunicorn (2 sync workers) and retries each one, with the same
external id, on a connection error, a timeout, a 5xx or a 429, as a real platform does. Meanwhile a
killer SIGKILLs a gunicorn worker, the Celery worker (restarted) and Redis (restarted empty) at
random moments. Afterwards everything is up again and the sweepers run: there must be exactly N
appeals, each with one "received" timeline row, and each risk-word appeal must have told every
center staff member exactly once.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from .harness import free_port, report, wait_for_port

PATH = "/api/v1/feeds/12345/appeals/"
KEY = "demo-12345-key"  # the demo feed key of 12345 (feeds/demo.py)
SECRET = "chaos-12345-secret"
RISKY = "邻居扬言要拿刀砍死我们家，请尽快出警处理。"


def _body(i: int) -> bytes:
    content = RISKY if i % 10 == 0 else f"滨江路第{i}号门前夜间施工噪音扰民，多次反映无果（编号{i}）。"
    return json.dumps(
        {
            "external_id": f"CHAOS-{i:06d}",
            "received_at": "2026-11-20T09:30:00+08:00",
            "citizen_name": "测试用户",
            "citizen_phone": f"1380000{i % 10000:04d}",
            "content": content,
            "address": "临江市江北区滨江路88号",
            "category_hint": "噪音扰民",
        },
        ensure_ascii=False,
    ).encode()


class Platform:
    """Pushes items and retries each until the server gives a definite answer (200, 201 or 4xx)."""

    def __init__(self, port: int, *, deadline: float) -> None:
        self.port = port
        self.deadline = deadline
        self.retries = Counter()
        self.answers: dict[int, int] = {}
        self.lock = threading.Lock()

    def push(self, i: int) -> int:
        from feeds import signing

        body = _body(i)
        attempt = 0
        while time.monotonic() < self.deadline:
            attempt += 1
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {KEY}",
                **signing.signed_headers(SECRET, body),
            }
            reason = ""
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                try:
                    conn.request("POST", PATH, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                finally:
                    conn.close()
                if status in (200, 201) or (400 <= status < 500 and status != 429):
                    with self.lock:
                        self.answers[i] = status
                    return status
                reason = str(status)
            except (OSError, http.client.HTTPException) as exc:
                reason = type(exc).__name__
            with self.lock:
                self.retries[reason] += 1
            time.sleep(min(0.05 * 2**attempt, 2.0) * random.uniform(0.5, 1.0))
        raise TimeoutError(f"item {i} got no answer before the deadline")


def _killer(stack, *, redis_port: int, stop: threading.Event, max_kills: int, log: list[str]) -> None:
    """SIGKILL one of gunicorn's workers, the Celery worker or Redis every 0.5–2 s, bounded."""
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "7")))
    for _ in range(max_kills):
        if stop.wait(rng.uniform(0.5, 2.0)):
            return
        target = rng.choice(["web-worker", "worker", "redis"])
        if target == "web-worker":
            pids = stack.web_workers()
            if pids and stack.kill_web_worker(rng.choice(pids)):
                log.append(target)
        elif target == "worker":
            stack.kill("worker")
            log.append(target)
            time.sleep(rng.uniform(0.2, 1.0))
            stack.start_worker()
        else:
            stack.kill("redis")
            log.append(target)
            time.sleep(rng.uniform(0.5, 2.0))
            stack.start_redis(redis_port)


def test_feed_pushes_while_things_die(scenario):
    from feeds.models import FeedSource
    from intake.models import Appeal, AppealEvent
    from intake.services import Action, sweep_risk_alerts
    from units.choices import Role
    from units.models import Notification, User

    stack, _url = scenario
    n = int(os.environ.get("CHAOS_N", "500"))
    threads = int(os.environ.get("CHAOS_CLIENTS", "4"))
    max_kills = int(os.environ.get("CHAOS_MAX_KILLS", "40"))
    timeout = float(os.environ.get("CHAOS_TIMEOUT", "900"))
    redis_port = int(os.environ["CHAOS_REDIS_PORT"])

    source = FeedSource.objects.get(code="12345")
    source.hmac_secret = SECRET
    source.save(update_fields=["hmac_secret"])

    web_port = free_port()
    stack.start_redis(redis_port)
    stack.start_web(web_port)
    stack.start_worker()
    stack.start_beat()

    platform = Platform(web_port, deadline=time.monotonic() + timeout)
    stop = threading.Event()
    kill_log: list[str] = []
    killer = threading.Thread(
        target=_killer,
        args=(stack,),
        kwargs={"redis_port": redis_port, "stop": stop, "max_kills": max_kills, "log": kill_log},
        daemon=True,
    )
    started = time.monotonic()
    killer.start()
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            answers = list(pool.map(platform.push, range(n)))
    finally:
        stop.set()
        killer.join(timeout=30)
    pushing = time.monotonic() - started

    # Everything up again; then the sweepers (called directly: beat's minute is too slow to wait for).
    if not stack.running("redis"):
        stack.start_redis(redis_port)
    if not stack.running("worker"):
        stack.start_worker()
    wait_for_port(web_port)
    swept = sweep_risk_alerts()
    converged = time.monotonic() - started

    assert Counter(answers) <= Counter({201: n, 200: n}), Counter(answers)
    ours = Appeal.objects.filter(channel="12345", external_id__startswith="CHAOS-")
    assert ours.count() == n
    assert set(ours.values_list("external_id", flat=True)) == {f"CHAOS-{i:06d}" for i in range(n)}
    received = Counter(
        AppealEvent.objects.filter(appeal__in=ours, action=Action.RECEIVED).values_list("appeal_id", flat=True)
    )
    assert len(received) == n and set(received.values()) == {1}

    staff = set(User.objects.filter(role=Role.CENTER_STAFF, is_active=True).values_list("pk", flat=True))
    risky = list(ours.exclude(risk_words="").values_list("pk", flat=True))
    assert len(risky) == len(range(0, n, 10))
    told = Counter(
        Notification.objects.filter(dedupe_key__in=[f"intake-risk-{pk}" for pk in risky]).values_list(
            "dedupe_key", "user_id"
        )
    )
    assert set(told.values()) == {1}
    assert set(told) == {(f"intake-risk-{pk}", user) for pk in risky for user in staff}
    calm = Notification.objects.filter(
        dedupe_key__in=[f"intake-risk-{pk}" for pk in ours.filter(risk_words="").values_list("pk", flat=True)]
    )
    assert not calm.exists()

    kills = Counter(kill_log)
    report(
        "scenario 1: feed pushes while things die",
        N=n,
        clients=threads,
        answers=dict(Counter(answers)),
        retries=f"{sum(platform.retries.values())} {dict(platform.retries)}",
        kills=f"{len(kill_log)} {dict(kills)}",
        alerts_redriven_by_sweeper=swept,
        pushing_seconds=f"{pushing:.1f}",
        converged_seconds=f"{converged:.1f}",
        throughput=f"{n / pushing:.1f} pushes/s",
    )
