"""Bulletin PDFs: printed offline by the local Chromium with a CJK font embedded, once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from analytics import services
from analytics.models import Bulletin
from analytics.pdf import browser_path

from .conftest import at

pytestmark = pytest.mark.django_db

needs_browser = pytest.mark.skipif(browser_path() is None, reason="no Chromium on this machine")


@pytest.fixture
def bulletin(make, station, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    make.appeal(unit=station, content="滨江路酒吧夜间噪音扰民", received_at=at("2026-10-20"))
    make.rating(unit=station, verdict="satisfied", rated_at=at("2026-10-20"))
    with time_machine.travel(at("2026-11-02"), tick=False):
        return services.generate_bulletin(kind="monthly", on=dt.date(2026, 10, 1))[0]


@needs_browser
def test_it_prints_the_pdf_once_with_the_cjk_font_embedded(bulletin):
    assert services.render_bulletin_pdf(bulletin) is True
    assert services.render_bulletin_pdf(bulletin) is False  # already printed: nothing happens
    bulletin.refresh_from_db()
    assert bulletin.pdf_attempts == 1 and bulletin.pdf_error == ""
    data = bulletin.pdf.read()
    assert data.startswith(b"%PDF")
    assert b"NotoSansCJK" in data  # Chinese drawn with a real CJK font, not missing-glyph boxes


@needs_browser
def test_it_queues_the_pdf_from_the_page_and_serves_it_when_ready(
    client, supervisor, bulletin, celery_eager, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(reverse("analytics:bulletin_pdf", args=[bulletin.pk]))
    assert first.status_code == 302 and first["Location"] == reverse("analytics:bulletin", args=[bulletin.pk])
    ready = client.get(reverse("analytics:bulletin_pdf", args=[bulletin.pk]))
    assert ready.status_code == 200 and ready["Content-Type"] == "application/pdf"
    assert b"".join(ready.streaming_content).startswith(b"%PDF")


def test_it_offers_the_print_view_when_pdfs_are_off(client, supervisor, bulletin, settings):
    settings.ANALYTICS_PDF_BROWSER = ""
    assert services.render_bulletin_pdf(bulletin) is False
    client.force_login(supervisor)
    response = client.get(reverse("analytics:bulletin_pdf", args=[bulletin.pk]))
    assert response["Location"] == reverse("analytics:bulletin_print", args=[bulletin.pk])
    assert Bulletin.objects.get().pdf_attempts == 0


def test_it_gives_up_after_the_attempt_cap(bulletin, settings, tmp_path):
    broken = tmp_path / "broken-browser"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    settings.ANALYTICS_PDF_BROWSER = str(broken)
    settings.ANALYTICS_PDF_MAX_ATTEMPTS = 2
    results = [services.render_bulletin_pdf(bulletin) for _ in range(3)]
    bulletin.refresh_from_db()
    assert results == [False, False, False]
    assert bulletin.pdf_attempts == 2 and "exit 3" in bulletin.pdf_error and not bulletin.pdf
    assert services.request_bulletin_pdf(bulletin) is False


def test_it_requeues_a_lost_pdf_task_from_the_hourly_job(bulletin, settings, django_capture_on_commit_callbacks):
    settings.ANALYTICS_PDF_BROWSER = "/bin/true"  # a browser is configured; nothing is printed here
    with time_machine.travel(at("2026-11-02"), tick=False), django_capture_on_commit_callbacks() as queued:
        services.generate_due_bulletins()
    # The kept monthly bulletin without its PDF (re-driven), the daily and weekly ones just made.
    assert len(queued) == 3
    bulletin.pdf_attempts = settings.ANALYTICS_PDF_MAX_ATTEMPTS
    bulletin.save()
    assert services.request_bulletin_pdf(bulletin) is False
