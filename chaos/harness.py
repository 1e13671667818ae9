"""Real processes for the fault scenarios: a Redis of our own, gunicorn, a Celery worker and beat,
each in its own process group so that a SIGKILL hits what a crash would hit and cleanup can take
down everything a process left behind. All traffic stays on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
LOGS = ROOT / "var" / "chaos"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


# --- databases -------------------------------------------------------------------------------


def _admin_connection(url: str) -> psycopg.Connection:
    parts = urllib.parse.urlparse(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        dbname="postgres",
        autocommit=True,
    )


def database_url(base_url: str, name: str) -> str:
    parts = urllib.parse.urlparse(base_url)
    return urllib.parse.urlunparse(parts._replace(path="/" + name))


def create_database(base_url: str, name: str, *, template: str = "template0") -> str:
    """Drop and create ``name`` (UTF-8 like scripts/ensure_database.py); returns its URL."""
    with _admin_connection(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        encoding = ' ENCODING UTF8 LC_COLLATE "C.UTF-8" LC_CTYPE "C.UTF-8"' if template == "template0" else ""
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{encoding}')
    return database_url(base_url, name)


def database_exists(base_url: str, name: str) -> bool:
    with _admin_connection(base_url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def drop_database(base_url: str, name: str) -> None:
    with _admin_connection(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- processes -------------------------------------------------------------------------------


class Stack:
    """The processes of one scenario. ``env`` is what every child gets (on top of ours)."""

    def __init__(self, name: str, *, env: dict[str, str]) -> None:
        self.name = name
        self.env = {**os.environ, "DJANGO_DEBUG": "1", "PYTHONUNBUFFERED": "1", **env}
        self.procs: dict[str, subprocess.Popen] = {}
        self.kills: dict[str, int] = {}
        LOGS.mkdir(parents=True, exist_ok=True)
        for old in LOGS.glob(f"{name}-*.log"):
            old.unlink()  # the logs of this scenario's previous run

    def log_path(self, role: str) -> Path:
        return LOGS / f"{self.name}-{role}.log"

    def _spawn(self, role: str, argv: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        old = self.procs.get(role)
        if old is not None and old.poll() is None:
            raise RuntimeError(f"{role} is already running")
        log = open(self.log_path(role), "ab")  # closed below: the child keeps its own descriptor
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killpg takes its children too
        )
        log.close()
        self.procs[role] = proc
        return proc

    # Redis of the scenario: no persistence, as it runs in production here.
    def start_redis(self, port: int) -> None:
        self._spawn(
            "redis",
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no"],
        )
        wait_for_port(port, timeout=10)

    def start_web(self, port: int, *, workers: int = 2) -> None:
        self._spawn(
            "web",
            [str(VENV_BIN / "gunicorn"), "-c", "opinion_center/gunicorn.conf.py", "opinion_center.wsgi:application"],
            {"GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)},
        )
        wait_for_port(port, timeout=60)

    def start_worker(self) -> None:
        self._spawn(
            "worker",
            [str(VENV_BIN / "celery"), "-A", "opinion_center", "worker", "--pool=solo", "--concurrency=1"]
            + ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        )

    def start_beat(self) -> None:
        self._spawn("beat", [str(VENV_BIN / "celery"), "-A", "opinion_center", "beat", "--loglevel=INFO"])

    def running(self, role: str) -> bool:
        proc = self.procs.get(role)
        return proc is not None and proc.poll() is None

    def kill(self, role: str) -> None:
        """SIGKILL the whole process group of ``role`` (a crash, not a shutdown) and reap it."""
        proc = self.procs.get(role)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        self.kills[role] = self.kills.get(role, 0) + 1

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's workers (children of the master)."""
        proc = self.procs.get("web")
        if proc is None or proc.poll() is not None:
            return []
        try:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def kill_web_worker(self, pid: int) -> bool:
        """SIGKILL one gunicorn worker; the master starts another."""
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.kills["web-worker"] = self.kills.get("web-worker", 0) + 1
        return True

    def stop_all(self) -> None:
        """Take down every process group we started (called in ``finally``)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)


def manage(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with ``env`` on top of ours; raise with its output when it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def report(title: str, **figures) -> None:
    """Print the figures of a scenario on one block (``make chaos`` runs pytest with -s)."""
    width = max(len(k) for k in figures)
    print(f"\n== {title}")
    for key, value in figures.items():
        print(f"   {key.ljust(width)}  {value}")
