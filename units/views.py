"""Staff shell: home page, unit list, health probes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .models import Notification
from .navigation import home_panels_for
from .selectors import unit_tree
from .services import mark_read


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page of the user's role: the panels the apps contribute for that role."""
    panels = []
    for panel in home_panels_for(request.user):
        context = panel.context(request) if panel.context else {}
        panels.append({"template": panel.template, "context": context})
    return render(request, "units/home.html", {"panels": panels})


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    return render(request, "units/unit_list.html", {"tree": unit_tree(request.user)})


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; POST marks them read."""
    if request.method == "POST":
        mark_read(user=request.user)
    items = Notification.objects.filter(user=request.user)[:200]
    return render(request, "units/notification_list.html", {"notifications": items})


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    cache.set("readyz", "1", 10)
    if cache.get("readyz") != "1":
        raise RuntimeError("cache did not return the value it was given")


def _check_broker() -> None:
    from opinion_center.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)


READINESS_CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
# Redis (the cache, and the broker in production) keeps nothing that matters: throttles and rate
# limits fail open and sweepers re-drive what the broker lost (ARCHITECTURE rules 1 and 14). Its
# absence degrades the service but must not take web out of rotation; only the database does.
DEGRADED_ONLY = {"cache", "broker"}


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 503 when the database does not answer; 200 otherwise, "degraded" (naming what)
    when the cache or the broker does not."""
    results, failed, degraded = {}, [], []
    for name, check in READINESS_CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure makes the check fail
            state = "degraded" if name in DEGRADED_ONLY else "error"
            detail = f"{state}: {exc.__class__.__name__}: {exc}"[:300]
            results[name] = detail if settings.DEBUG else state
            (degraded if name in DEGRADED_ONLY else failed).append(name)
    status = "unavailable" if failed else "degraded" if degraded else "ok"
    body = {"status": status, "checks": results, "failed": failed, "degraded": degraded}
    return JsonResponse(body, status=503 if failed else 200)
