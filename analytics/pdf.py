"""Bulletin PDFs printed by a headless Chromium: offline, with the machine's CJK fonts embedded.

The bulletin's own print page (standalone HTML, its charts drawn by the local ECharts file) is
written to a temporary directory and printed with ``--print-to-pdf``. Nothing is fetched from a
network: the page refers only to local files.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders


class PdfUnavailable(Exception):
    """No browser to print with (``ANALYTICS_PDF_BROWSER`` off or nothing found)."""


def browser_path() -> str | None:
    configured = settings.ANALYTICS_PDF_BROWSER
    if not configured:
        return None
    if configured == "auto":
        for name in ("chromium", "chromium-browser", "google-chrome"):
            found = shutil.which(name)
            if found:
                return found
        return None
    return configured if Path(configured).exists() else shutil.which(configured)


def static_file_url(path: str) -> str:
    """A ``file://`` URL of a static file (the printed page loads scripts from disk)."""
    found = finders.find(path)
    return Path(found).as_uri() if found else ""


def html_to_pdf(html: str) -> bytes:
    """Print the HTML to PDF bytes; raises PdfUnavailable, or RuntimeError when printing fails."""
    browser = browser_path()
    if browser is None:
        raise PdfUnavailable("no browser configured for PDF printing")
    with tempfile.TemporaryDirectory(prefix="oc-pdf-") as tmp:
        page = Path(tmp) / "bulletin.html"
        out = Path(tmp) / "bulletin.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--allow-file-access-from-files",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            "--virtual-time-budget=10000",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, timeout=settings.ANALYTICS_PDF_TIMEOUT, check=False)
        if not out.exists() or out.stat().st_size == 0:
            raise RuntimeError(f"printing failed (exit {result.returncode})")
        return out.read_bytes()
