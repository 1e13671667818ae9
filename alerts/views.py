"""Staff pages of the early-warning app: the alert list and one alert's page with its moves."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from units.errors import Refused
from units.refusals import show_refusal

from . import permissions, selectors, services
from .choices import Detector
from .filters import AlertFilter
from .forms import HandleForm
from .models import Alert


def _reader(request: HttpRequest) -> None:
    if not permissions.may_read(request.user):
        raise PermissionDenied


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    """预警列表 with the API's filters (state, detector, unit, listed, dates), rows scoped to the
    user's units; a value the form refuses is shown as an error and filters nothing."""
    _reader(request)
    filters = AlertFilter(request.GET or None, queryset=selectors.alert_list(user=request.user))
    qs = filters.qs if filters.is_valid() else filters.queryset
    # Alerts are few (a handful a day): a plain page of 50 is enough, newest first.
    page = Paginator(qs, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "alerts/list.html",
        {"form": filters.form, "page": page, "alerts": page.object_list, "query": query.urlencode()},
    )


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One alert: its figures, its evidence, the work orders behind it, its timeline and moves."""
    _reader(request)
    alert = get_object_or_404(Alert.objects.visible_to(request.user).select_related("unit", "category"), pk=pk)
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "detector_label": Detector(alert.detector).label,
            "evidence": selectors.evidence_of(alert),
            "orders": selectors.open_orders_of(alert),
            "events": alert.events.select_related("actor"),
            "handle_form": HandleForm(),
            **permissions.offered_moves(request.user, alert),
        },
    )


@login_required
def alert_move(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """POST one move: seen (已查看), handle (已处置 with a note), list (挂牌督办)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _reader(request)
    alert = get_object_or_404(Alert.objects.visible_to(request.user), pk=pk)
    try:
        if name == "seen":
            services.mark_seen(alert, actor=request.user)
            messages.success(request, _("已标记为已查看。"))
        elif name == "handle":
            form = HandleForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请填写处置说明。"))
                return redirect("alerts:detail", pk=alert.pk)
            services.handle_alert(alert, actor=request.user, note=form.cleaned_data["note"])
            messages.success(request, _("已处置。"))
        elif name == "list":
            listed = services.list_for_supervision(alert, actor=request.user)
            messages.success(request, _("已挂牌督办，工单%(n)d件。") % {"n": listed})
        else:
            raise Http404
    except (Refused, ValidationError) as exc:
        show_refusal(request, exc)
    return redirect("alerts:detail", pk=alert.pk)
