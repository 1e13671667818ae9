"""The loopback skeleton every fake SMS provider runs on: a threaded HTTP server on 127.0.0.1 (a
free port), a log of the requests it received, and start/stop.

A provider's fake only answers: ``answer(request)`` gets the method, path, lower-cased headers and
body, and returns an ``Answer`` (status, JSON document, and ``hang``: seconds to sleep before
answering, the message already stored, so the client times out on an ambiguous send). A client
that gave up waiting is not an error of the fake.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Answer:
    status: int
    document: dict = field(default_factory=dict)
    hang: float = 0.0
    content_type: str = "application/json"


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.messages: list[dict] = []  # what the fake provider accepted
        self.hang_seconds = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                fake._serve(self)

            def do_GET(self):
                fake._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.endpoint}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, request: Request) -> Answer:
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        with self.lock:
            self.requests.append((request.method, request.path))
        answer = self.answer(request)
        if answer.hang:
            time.sleep(answer.hang)
        data = json.dumps(answer.document, ensure_ascii=False).encode()
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", answer.content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting: it has to ask the provider whether it took the message

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
