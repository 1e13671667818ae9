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

import random
import re
import time
import uuid
from urllib.parse import parse_qs, urlparse

from .fake_server import Answer, FakeServer, Request

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
MESSAGING_SERVICE_SID = "MG" + "1" * 32


MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
ONE_MESSAGE = re.compile(rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/(SM\w+)\.json")


def _error(status: int, code: int, message: str) -> Answer:
    return Answer(status, {"code": code, "message": message, "status": status})


class FakeTwilio(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.fail_with: list[tuple[int, int]] = []
        self.fail_reads = False
        self.error_rate = self.permanent_rate = self.timeout_rate = 0.0
        self.timeout_seconds = 0.0
        self.injected: dict[str, int] = {"error": 0, "permanent": 0, "timeout": 0}
        self.rng = random.Random(0)
        self.rate_limit = 0
        self.arrivals: list[float] = []
        self.refused = 0
        self._window: tuple[int, int] = (0, 0)

    def answer(self, request: Request) -> Answer:
        if request.method == "POST":
            return self._create(request)
        return self._read(request)

    def _create(self, request: Request) -> Answer:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if request.path != MESSAGES:
            return _error(404, 20404, "not found")
        if self.fail_with:
            status, code = self.fail_with.pop(0)
            return _error(status, code, f"fake error {code}")
        if self.rate_limit:
            with self.lock:
                second = int(time.time())
                start, count = self._window
                count = count + 1 if start == second else 1
                self._window = (second, count)
                if count > self.rate_limit:
                    self.refused += 1
                    return _error(429, 20429, "Too Many Requests")
                self.arrivals.append(time.monotonic())
        hang = self.hang_seconds
        if self.error_rate or self.permanent_rate or self.timeout_rate:
            with self.lock:
                draw = self.rng.random()
            if draw < self.error_rate:
                self.injected["error"] += 1
                return _error(500, 20500, "fake internal error")
            draw -= self.error_rate
            if draw < self.permanent_rate:
                self.injected["permanent"] += 1
                return _error(400, 21211, "fake invalid 'To'")
            draw -= self.permanent_rate
            if draw < self.timeout_rate:
                self.injected["timeout"] += 1
                hang = self.timeout_seconds
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
        with self.lock:
            self.messages.append(message)
        return Answer(201, message, hang=hang)

    def _read(self, request: Request) -> Answer:
        url = urlparse(request.path)
        if self.fail_reads:
            return _error(500, 20500, "internal error")
        one = ONE_MESSAGE.fullmatch(url.path)
        if one:
            found = [m for m in self.messages if m["sid"] == one.group(1)]
            if not found:
                return _error(404, 20404, "not found")
            return Answer(200, found[0])
        if url.path == MESSAGES:
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            items = [m for m in self.messages if not query.get("To") or m["to"] == query["To"]]
            return Answer(
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
                    "uri": request.path,
                },
            )
        return _error(404, 20404, "not found")

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
