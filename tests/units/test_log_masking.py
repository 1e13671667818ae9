"""Citizens' mobile numbers and ID-card numbers never reach a log line (ARCHITECTURE rule 8):
not in Django's request logs, not in runserver's, not in gunicorn's access log."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sys
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.wsgi import get_wsgi_application

from units.logging import MaskPersonalData, mask

ROOT = Path(__file__).resolve().parents[2]
PHONE, MASKED_PHONE = "13800001111", "138****1111"
ID_CARD, MASKED_ID_CARD = "11010519491231002X", "110105********002X"


def project_handlers() -> set[logging.Handler]:
    """Every handler that writes somewhere (pytest's capture and libraries' NullHandlers left out)."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    return {
        h
        for lg in loggers
        for h in lg.handlers
        if not type(h).__module__.startswith("_pytest") and not isinstance(h, logging.NullHandler)
    }


@contextlib.contextmanager
def written_logs():
    """What the project's stream handlers write, collected in one buffer."""
    buffer = io.StringIO()
    swapped = {}
    for handler in project_handlers():
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            swapped[handler] = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        for handler, stream in swapped.items():
            handler.setStream(stream)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"q={PHONE}", f"q={MASKED_PHONE}"),
        ("call +8613800001111 now", "call +86138****1111 now"),
        ("q=%2B8613900002222&x=1", "q=%2B86139****2222&x=1"),
        ("tel 8613700003333.", "tel 86137****3333."),
        ("138 0000 4444 or 138-0000-5555", "138****4444 or 138****5555"),
        (f"id={ID_CARD}", f"id={MASKED_ID_CARD}"),
        ("身份证号110105194912310021。", "身份证号110105********0021。"),
        # Not phones: too long, landline, order numbers, timestamps.
        ("order 138000011112222", "order 138000011112222"),
        ("tel 02112345678, ts 1733550000", "tel 02112345678, ts 1733550000"),
        ("12800001111", "12800001111"),
    ],
)
def test_it_masks_phones_and_id_cards(text, expected):
    assert mask(text) == expected


def test_it_masks_after_formatting_whatever_the_arguments():
    masking = MaskPersonalData()
    cases = [
        logging.LogRecord("x", logging.INFO, __file__, 1, "phone 138%s", ("00001111",), None),  # split
        logging.LogRecord("x", logging.INFO, __file__, 1, "%(who)s asked", ({"who": PHONE},), None),
        logging.LogRecord("x", logging.INFO, __file__, 1, "%s / %d%%", (ID_CARD, 5), None),
        logging.LogRecord("x", logging.INFO, __file__, 1, ValueError(PHONE), None, None),
    ]
    for record in cases:
        assert masking.filter(record) is True
        message = logging.Formatter().format(record)
        assert PHONE not in message and ID_CARD not in message and "00001111" not in message, message
    assert logging.Formatter().format(cases[2]).endswith("/ 5%")
    try:
        raise RuntimeError(f"lookup of {PHONE} failed")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    masking.filter(record)
    text = logging.Formatter().format(record)
    assert MASKED_PHONE in text and PHONE not in text


def test_it_puts_the_mask_on_every_handler_of_the_logging_setting():
    handlers = project_handlers()
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, MaskPersonalData) for f in handler.filters), handler


def test_it_masks_a_phone_in_the_query_string_of_the_development_server_log(caplog):
    """A real request through runserver's handler: its request line is logged by django.server."""
    caplog.set_level(logging.INFO)
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/appeals/{PHONE}/?q={PHONE}&id={ID_CARD}"
    try:
        with written_logs() as written:
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(url, timeout=10).read()
            server.shutdown()
    finally:
        server.server_close()
    text = written.getvalue() + caplog.text
    assert "/api/v1/appeals/" in written.getvalue(), text
    assert f"q={MASKED_PHONE}" in written.getvalue() and MASKED_ID_CARD in written.getvalue()
    assert PHONE not in text and ID_CARD not in text


def test_it_masks_a_phone_in_the_path_of_the_request_log(client, center, caplog):
    caplog.set_level(logging.INFO)
    client.force_login(center)
    with written_logs() as written:
        assert client.get(f"/api/v1/appeals/{PHONE}/?q={PHONE}").status_code == 404
    text = written.getvalue() + caplog.text
    assert f"Not Found: /api/v1/appeals/{MASKED_PHONE}/" in caplog.text
    assert PHONE not in text


class FakeResponse:
    status = "200 OK"
    status_code = 200
    sent = 42
    response_length = 42
    headers = [("Content-Type", "application/json")]


class FakeRequest:
    headers = [("USER-AGENT", "curl/8"), ("REFERER", f"https://minyi.example.gov.cn/?q={PHONE}")]


def gunicorn_command() -> list[str]:
    dockerfile = (ROOT / "Dockerfile").read_text()
    return json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE).group(1))


def test_it_starts_gunicorn_with_the_masking_logger_and_masks_its_access_log(tmp_path, monkeypatch):
    from gunicorn.app.wsgiapp import WSGIApplication

    command = gunicorn_command()
    assert command[0] == "gunicorn"
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", command)
    app = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
    assert app.cfg.accesslog == "-"
    # The same configuration, writing to a file this test can read.
    app.cfg.set("accesslog", str(tmp_path / "access.log"))
    app.cfg.set("errorlog", str(tmp_path / "error.log"))
    log = app.cfg.logger_class(app.cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/appeals/?q={PHONE}&id={ID_CARD}",
        "PATH_INFO": "/api/v1/appeals/",
        "QUERY_STRING": f"q={PHONE}&id={ID_CARD}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
    }
    log.access(FakeResponse(), FakeRequest(), environ, timedelta(milliseconds=12))
    log.error("bad request line GET /track/?phone=%s", "+86" + PHONE)
    for handler in log.access_log.handlers + log.error_log.handlers:
        handler.flush()
    written = (tmp_path / "access.log").read_text() + (tmp_path / "error.log").read_text()
    assert f"q={MASKED_PHONE}" in written and MASKED_ID_CARD in written and "+86" + MASKED_PHONE in written
    assert PHONE not in written and ID_CARD not in written


def test_it_masks_the_handlers_a_celery_worker_installs(settings):
    from celery.signals import after_setup_task_logger

    import opinion_center.celery  # noqa: F401 - connects the signal handlers

    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False  # the root keeps its masked handler
    logger = logging.getLogger("tests.celery-task")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        after_setup_task_logger.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="")
        logger.warning("task for %s", PHONE)
    finally:
        logger.removeHandler(handler)
    assert MASKED_PHONE in handler.stream.getvalue() and PHONE not in handler.stream.getvalue()


def test_it_masks_the_handlers_the_aliyun_sdk_installs_when_imported():
    """The Aliyun SDK adds its own stderr handlers to its loggers on import (on the first send)."""
    from sms.providers import aliyun

    aliyun._client()
    for name in ("alibabacloud-tea", "credentials", "darabonba-core"):
        logger = logging.getLogger(name)
        assert logger.handlers, name
        with written_logs() as written:
            logger.warning("retry for %s", PHONE)
        assert MASKED_PHONE in written.getvalue() and PHONE not in written.getvalue(), name
    for handler in project_handlers():
        assert any(isinstance(f, MaskPersonalData) for f in handler.filters), handler


def test_it_masks_the_logger_of_the_tencent_sdk(settings):
    from sms.providers import tencent

    settings.TENCENT_SMS_SECRET_ID, settings.TENCENT_SMS_SECRET_KEY = "AKIDtest", "not-a-secret"
    tencent._client()
    logger = logging.getLogger("tencentcloud_sdk_common")
    assert any(isinstance(f, MaskPersonalData) for f in logger.filters)
    for handler in logger.handlers:
        assert any(isinstance(f, MaskPersonalData) for f in handler.filters), handler
