"""Fixtures of the feeds tests: the platforms with known keys, uploaded files kept in a temporary
folder, and a fake 12345 platform: a real HTTP server on 127.0.0.1 that our real client calls."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from feeds import signing
from feeds.choices import FeedKind
from feeds.models import FeedSource
from intake.choices import Channel

KEYS = {"12345": "test-12345-key", "12389": "test-12389-key", "message-board": "test-board-key"}
RESULT_SECRET = "platform-shared-secret"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def no_throttle_memory(settings):
    """Throttle counters live in the shared cache; each test starts from a clean slate."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def sources(db) -> dict[str, FeedSource]:
    made = {}
    for code, channel in (
        ("12345", Channel.FEED_12345),
        ("12389", Channel.FEED_12389),
        ("message-board", Channel.MESSAGE_BOARD),
    ):
        source = FeedSource(code=code, name=f"平台{code}", kind=FeedKind.APPEALS, channel=channel)
        source.set_key(KEYS[code])
        source.save()
        made[code] = source
    records = FeedSource(code="service-records", name="业务系统", kind=FeedKind.SERVICE_RECORDS)
    records.set_key("test-records-key")
    records.save()
    made["service-records"] = records
    return made


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class FakePlatform:
    """Answers each POST with the next planned status (the last one repeats) and records it."""

    url: str
    secret: str
    plan: deque = field(default_factory=lambda: deque([200]))
    calls: list[Call] = field(default_factory=list)
    bad_signatures: int = 0

    def answer(self, *statuses: int) -> None:
        self.plan = deque(statuses)


@pytest.fixture
def fake_platform():
    holder: dict[str, FakePlatform] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            platform = holder["p"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            call = Call(self.path, {k: v for k, v in self.headers.items()}, body)
            platform.calls.append(call)
            ok = signing.verify(
                platform.secret, body, self.headers.get("X-Signature", ""), timestamp=self.headers.get("X-Timestamp")
            )
            if not ok:
                platform.bad_signatures += 1
                status = 401
            else:
                status = platform.plan[0] if len(platform.plan) == 1 else platform.plan.popleft()
            payload = json.dumps({"code": status, "msg": "ok" if status < 300 else "error"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    holder["p"] = FakePlatform(url=f"http://127.0.0.1:{server.server_port}/api/results", secret=RESULT_SECRET)
    yield holder["p"]
    server.shutdown()
    server.server_close()
