"""A fake Twilio Messages API on 127.0.0.1, answered like Twilio's JSON, for the real twilio client.

Modes for the next request(s): ``fail_with`` (status, code) answers an error; ``hang_seconds``
stores the message and then sleeps (the client times out: an ambiguous send); ``fail_reads``
answers every GET (fetch, list) with a 500 while set (the provider cannot tell us anything).

Random injection for the fault scenarios (chaos/): ``inject(error_rate=…, permanent_rate=…,
timeout_rate=…, seed=…)`` makes each POST, independently, answer a 500 (a transient error), a 400
with code 21211 (an invalid number: a permanent failure) or store the message and then hang for
``timeout_seconds`` (an ambiguous send). ``sends_per_phone()`` counts what each number received.

``rate_limit = R`` makes it a provider that allows R messages in each wall-clock second and answers
429 (code 20429) above it; ``arrivals`` keeps the monotonic time of every accepted POST and
``refused`` counts the 429s, so a pacing test can read the busiest second.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
MESSAGING_SERVICE_SID = "MG" + "1" * 32


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.fail_with: list[tuple[int, int]] = []
        self.hang_seconds = 0.0
        self.fail_reads = False
        self.error_rate = self.permanent_rate = self.timeout_rate = 0.0
        self.timeout_seconds = 0.0
        self.injected: dict[str, int] = {"error": 0, "permanent": 0, "timeout": 0}
        self.rng = random.Random(0)
        self.lock = threading.Lock()
        self.rate_limit = 0
        self.arrivals: list[float] = []
        self.refused = 0
        self._window: tuple[int, int] = (0, 0)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append(("POST", self.path))
                if not re.fullmatch(rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages\.json", self.path):
                    return self._json(404, {"code": 20404, "message": "not found", "status": 404})
                if fake.fail_with:
                    status, code = fake.fail_with.pop(0)
                    return self._json(status, {"code": code, "message": f"fake error {code}", "status": status})
                if fake.rate_limit:
                    with fake.lock:
                        second = int(time.time())
                        start, count = fake._window
                        count = count + 1 if start == second else 1
                        fake._window = (second, count)
                        if count > fake.rate_limit:
                            fake.refused += 1
                            return self._json(429, {"code": 20429, "message": "Too Many Requests", "status": 429})
                        fake.arrivals.append(time.monotonic())
                hang = fake.hang_seconds
                if fake.error_rate or fake.permanent_rate or fake.timeout_rate:
                    with fake.lock:
                        draw = fake.rng.random()
                    if draw < fake.error_rate:
                        fake.injected["error"] += 1
                        return self._json(500, {"code": 20500, "message": "fake internal error", "status": 500})
                    draw -= fake.error_rate
                    if draw < fake.permanent_rate:
                        fake.injected["permanent"] += 1
                        return self._json(400, {"code": 21211, "message": "fake invalid 'To'", "status": 400})
                    draw -= fake.permanent_rate
                    if draw < fake.timeout_rate:
                        fake.injected["timeout"] += 1
                        hang = fake.timeout_seconds
                message = {
                    "sid": "SM" + uuid.uuid4().hex,
                    "account_sid": ACCOUNT_SID,
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "messaging_service_sid": form.get("MessagingServiceSid"),
                    "body": form.get("Body"),
                    "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                    "num_segments": "1",
                    "status_callback": form.get("StatusCallback"),
                    "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                    "date_sent": None,
                    "direction": "outbound-api",
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM.json",
                }
                with fake.lock:
                    fake.messages.append(message)
                if hang:
                    time.sleep(hang)
                try:
                    self._json(201, message)
                except OSError:
                    pass  # the client gave up waiting: it has to ask us whether we took it

            def do_GET(self):
                url = urlparse(self.path)
                fake.requests.append(("GET", self.path))
                if fake.fail_reads:
                    return self._json(500, {"code": 20500, "message": "internal error", "status": 500})
                one = re.fullmatch(rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/(SM\w+)\.json", url.path)
                if one:
                    found = [m for m in fake.messages if m["sid"] == one.group(1)]
                    if not found:
                        return self._json(404, {"code": 20404, "message": "not found", "status": 404})
                    return self._json(200, found[0])
                if url.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    items = [m for m in fake.messages if not query.get("To") or m["to"] == query["To"]]
                    return self._json(
                        200,
                        {
                            "messages": items,
                            "next_page_uri": None,
                            "previous_page_uri": None,
                            "first_page_uri": url.path,
                            "page": 0,
                            "page_size": 50,
                            "start": 0,
                            "end": len(items),
                            "uri": self.path,
                        },
                    )
                return self._json(404, {"code": 20404, "message": "not found", "status": 404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(
        self,
        *,
        error_rate: float = 0.0,
        permanent_rate: float = 0.0,
        timeout_rate: float = 0.0,
        timeout_seconds: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Answer each later POST, at random (seeded), with an error, a refusal or a hang."""
        self.error_rate, self.permanent_rate, self.timeout_rate = error_rate, permanent_rate, timeout_rate
        self.timeout_seconds = timeout_seconds
        self.rng = random.Random(seed)

    def busiest_second(self) -> int:
        """The most accepted messages in any sliding one-second window (a stricter count than the
        wall-clock seconds the limit itself is kept in)."""
        with self.lock:
            times = sorted(self.arrivals)
        most, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    def sends_per_phone(self) -> dict[str, int]:
        """How many messages each number was sent (stored ones, whether or not we answered)."""
        with self.lock:
            counts: dict[str, int] = {}
            for message in self.messages:
                counts[message["to"]] = counts.get(message["to"], 0) + 1
        return counts

    def set_status(self, sid: str, status: str) -> None:
        for message in self.messages:
            if message["sid"] == sid:
                message["status"] = status
