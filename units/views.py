"""Staff shell: home page, unit list, health probes."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.exceptions import BadRequest
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .models import Notification
from .navigation import home_panels_for
from .selectors import notification_page, parse_notification_cursor, pinned_urgent, unit_tree
from .services import mark_read


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page of the user's role: the panels the apps contribute for that role."""
    panels = []
    for panel in home_panels_for(request.user):
        context = panel.context(request) if panel.context else {}
        panels.append({"template": panel.template, "context": context})
    return render(request, "units/home.html", {"panels": panels, "pinned": pinned_urgent(request.user)})


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    return render(request, "units/unit_list.html", {"tree": unit_tree(request.user)})


def _level_param(request: HttpRequest) -> str:
    level = request.GET.get("level", "")
    if level and level not in Notification.Level.values:
        raise BadRequest("unknown level")
    return level


def _list_url(level: str) -> str:
    url = reverse("units:notifications")
    return f"{url}?{urlencode({'level': level})}" if level else url


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, of one level (``?level=``) or all, paged by keyset
    (``?before=``). A POST marks them all read (as the mark-all-read action does)."""
    level = _level_param(request)
    if request.method == "POST":
        mark_read(user=request.user)
        return redirect(_list_url(level))
    try:
        before = parse_notification_cursor(request.GET.get("before", ""))
    except ValueError as exc:
        raise BadRequest("malformed cursor") from exc
    page = notification_page(request.user, level=level, before=before)
    tabs = [{"value": "", "label": _("全部"), "url": _list_url("")}] + [
        {"value": value, "label": label, "url": _list_url(value)} for value, label in Notification.Level.choices
    ]
    next_url = None
    if page["next"]:
        next_url = f"{reverse('units:notifications')}?{urlencode({'level': level, 'before': page['next']})}"
    context = {"page": page, "notifications": page["items"], "level": level, "tabs": tabs, "next_url": next_url}
    return render(request, "units/notification_list.html", context)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """全部标为已读: every unread notification of the user (whatever tab he is on), then back to it."""
    level = _level_param(request)
    mark_read(user=request.user)
    return redirect(_list_url(level))


def _is_local_path(url: str) -> bool:
    """A path on this site ("/workorders/12/"), never another host ("//x", "/\\x", "https://x")
    nor a scheme ("javascript:"): a notification's link must not become an open redirect."""
    return (
        url.startswith("/")
        and not url.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(url, allowed_hosts=set(), require_https=False)
    )


@login_required
@require_safe
def notification_go(request: HttpRequest, pk: int) -> HttpResponse:
    """One click from a notification to its object: mark it read, then go to its link (a local
    path only; anything else lands on the notification list)."""
    note = get_object_or_404(Notification, pk=pk, user=request.user)
    mark_read(user=request.user, ids=[note.pk])
    return redirect(note.url if _is_local_path(note.url) else reverse("units:notifications"))


@require_safe
@cache_control(max_age=7 * 24 * 3600, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    """/favicon.ico: browsers, bookmarks and tabs ask the root for it whatever the page links."""
    found = finders.find("favicon.ico")
    if not found:
        raise Http404
    return FileResponse(open(found, "rb"), content_type="image/x-icon")  # the response closes it


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


# --- 我的视图 (saved views) ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def saved_views(request: HttpRequest) -> HttpResponse:
    """GET: the user's saved views by list, to rename or delete. POST (from a list's "保存当前筛选"):
    save the list's current filters under a name and open the list through the new tab."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from .choices import SavedList
    from .saved_views import LISTS, sanitise, save_view, url_of, views_for

    if request.method == "POST":
        list_name = request.POST.get("list_name", "")
        query = request.POST.get("query", "")
        try:
            view, created = save_view(
                user=request.user, list_name=list_name, name=request.POST.get("name", ""), query=query, replace=True
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            if list_name in LISTS:
                # Back to the list with its filters (sanitised: the page never echoes a foreign URL).
                kept = sanitise(list_name, query)
                base = reverse(LISTS[list_name].url_name)
                return redirect(f"{base}?{kept}" if kept else base)
            return redirect("units:saved_views")
        text = _("已保存视图“%(name)s”。") if created else _("已将视图“%(name)s”更新为当前筛选。")
        messages.success(request, text % {"name": view.name})
        return redirect(url_of(view))
    groups = []
    for choice in SavedList:
        views = [{"view": v, "url": url_of(v)} for v in views_for(request.user, choice.value)]
        if views:
            groups.append(
                {"key": choice.value, "label": choice.label, "url": reverse(LISTS[choice].url_name), "views": views}
            )
    return render(request, "units/saved_views.html", {"groups": groups})


@login_required
@require_POST
def saved_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename (``action=rename``) or delete (``action=delete``) one of the user's own views; another
    user's view does not exist for him (404)."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from .models import SavedView
    from .saved_views import delete_view, update_view

    view = get_object_or_404(SavedView, pk=pk, user=request.user)
    action = request.POST.get("action", "")
    if action == "delete":
        delete_view(view)
        messages.success(request, _("已删除视图“%(name)s”。") % {"name": view.name})
    elif action == "rename":
        try:
            update_view(view, name=request.POST.get("name", ""))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("视图已重命名为“%(name)s”。") % {"name": view.name})
    else:
        raise BadRequest("unknown action")
    return redirect(f"{reverse('units:saved_views')}#list-{view.list_name}")
