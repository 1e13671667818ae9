"""What bench/pages.py and bench/intake.py share: gunicorn on a loopback port, logins, timing.

gunicorn runs with the project's ``opinion_center/gunicorn.conf.py`` (sync workers, the product's
logger), two workers, bound to 127.0.0.1 only, DEBUG off (as in production: no query log), and is
always stopped by the ``serve`` context manager, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent

# The product as gunicorn runs it in production (DEBUG off: no query log), minus what needs TLS
# and a collected static manifest: every benchmark measures with these.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_STATIC_MANIFEST": "0",
}


def database_url(name: str) -> str:
    """The DATABASE_URL of database ``name`` on the server of the current DATABASE_URL."""
    url = urllib.parse.urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return urllib.parse.urlunparse(url._replace(path=f"/{name}"))


def refuse_shared_database() -> None:
    """Exit when DATABASE_URL names one of the shared ``oc_bench…`` databases: the benchmarks that
    write appeals (imports, pushes, creates) leave them there, with phone numbers encrypted by
    that run's keys, and ``bench/pages.py`` reads those databases afterwards."""
    if os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1].startswith("oc_bench"):
        sys.exit("The shared oc_bench… databases are read-only for benchmarks: use a database of your own.")


def vm_rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB (0 once it is gone)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stop_group(process: subprocess.Popen, *, timeout: float) -> None:
    """End ``process`` and its children (started with ``start_new_session``): SIGTERM, and SIGKILL
    after ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def serve(
    db_url: str, *, port: int, app: str = "opinion_center.wsgi:application", workers: int = 2, timeout: int = 120
):
    """gunicorn serving ``app`` against ``db_url`` on 127.0.0.1:``port`` until the block ends."""
    env = dict(
        os.environ,
        **PRODUCTION_ENV,
        DATABASE_URL=db_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        PYTHONPATH=str(ROOT),
    )
    log = open(ROOT / "var" / f"bench-gunicorn-{port}.log", "w")
    # The access log would cost each request a line on stdout: off here, like behind a proxy that logs.
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(ROOT / "opinion_center" / "gunicorn.conf.py"),
            "--timeout",
            str(timeout),
            "--access-logfile",
            "/dev/null",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({process.returncode}); see {log.name}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", timeout=2).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer on {base} within 60 s; see {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        stop_group(process, timeout=20)
        log.close()


def login(base: str, username: str, password: str = "demo12345") -> requests.Session:
    """A session logged in through the login form, as a browser does."""
    session = requests.Session()
    page = session.get(f"{base}/login/", timeout=30)
    token = session.cookies.get("csrftoken") or ""
    response = session.post(
        f"{base}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit(f"login as {username} failed ({response.status_code}, {page.status_code})")
    session.headers["X-CSRFToken"] = session.cookies.get("csrftoken") or token
    session.headers["Referer"] = f"{base}/"
    return session


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_users(call, sessions: list[requests.Session], *, runs: int, budget: float) -> tuple[list[float], list[str]]:
    """Each session in its own thread calls ``call(session)`` up to ``runs`` times (or until
    ``budget`` seconds have passed); returns the latencies in ms and the errors seen."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + budget

    def user(session):
        for _ in range(runs):
            if time.monotonic() > stop_at:
                return
            start = time.perf_counter()
            try:
                response = call(session)
                ok = response.status_code < 400
                error = "" if ok else f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if error:
                    errors.append(error)
                else:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=user, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}, {os.cpu_count()} cores"


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(1)
