"""Staff pages: the unit workspace, the order page and its moves, center review, listed orders, calendar.

Views are thin: permission, form, service, message, redirect. Every move is a POST to
``workorders/<pk>/<move>/`` handled by ``move`` with the table ``MOVE_FORMS`` below.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.generic import DetailView, ListView

from intake.models import Appeal
from intake.phones import mask
from units.choices import Role
from units.visibility import RoleRequiredMixin, VisibleMixin

from . import forms, selectors, services
from .choices import Action
from .filters import WorkOrderFilter
from .models import FeedbackAttachment, WorkOrder

LIST_LIMIT = 200
PAGE_SIZE = 50


def appeal_url(appeal: Appeal) -> str:
    """The intake app's page of the appeal, if it has one."""
    for name in ("intake:appeal", "intake:appeal_detail"):
        try:
            return reverse(name, args=[appeal.pk])
        except NoReverseMatch:
            continue
    return ""


class WorkspaceView(RoleRequiredMixin, ListView):
    """The unit's queue in tabs (to sign, in progress, due soon, overdue, returned); center sees all units.

    Pages are keyset pages (``?after=<sort value>|<id>``): page 100 costs what page 1 costs.
    """

    template_name = "workorders/workspace.html"
    context_object_name = "orders"

    def get_queryset(self):
        self.tab = self.request.GET.get("tab") or ("review" if self.request.user.is_center else "to_sign")
        if self.tab not in selectors.TAB_KEYS:
            self.tab = "all"
        base = selectors.orders_for(self.request.user).filter(selectors.tab_filter(self.tab))
        self.filterset = WorkOrderFilter(self.request.GET or None, queryset=base)
        qs = self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else base
        self.ordering_key = selectors.TAB_ORDERING.get(self.tab, selectors.DEFAULT_ORDERING)
        qs = selectors.after_cursor(qs, self.ordering_key, self.request.GET.get("after", ""))
        rows = list(qs.order_by(*self.ordering_key)[: PAGE_SIZE + 1])
        self.next_cursor = selectors.cursor_of(rows[PAGE_SIZE - 1], self.ordering_key) if len(rows) > PAGE_SIZE else ""
        return rows[:PAGE_SIZE]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("after", None)
        next_url = ""
        if self.next_cursor:
            params["after"] = self.next_cursor
            next_url = f"?{params.urlencode()}"
        # Tabs keep the filters (not the page): switching tab shows the same search in that tab.
        tab_params = self.request.GET.copy()
        for key in ("tab", "after"):
            tab_params.pop(key, None)
        user = self.request.user
        bulk_actions = []
        if user.is_unit_user:
            bulk_actions = [{"name": "sign", "label": _("批量签收")}, {"name": "start", "label": _("批量开始办理")}]
        ctx.update(
            tab_query=tab_params.urlencode(),
            bulk_actions=bulk_actions,
            bulk_form="order-bulk" if bulk_actions else "",
            tab=self.tab,
            tabs=selectors.workspace_tabs(self.request.user),
            filter=self.filterset,
            next_url=next_url,
            first_url=f"?{params.urlencode()}" if self.request.GET.get("after") else "",
        )
        return ctx


class OrderDetailView(VisibleMixin, DetailView):
    """The order page: the appeal, contact under the masking rules, the timeline, and the forms of the
    moves this user may make now."""

    model = WorkOrder
    template_name = "workorders/detail.html"
    context_object_name = "order"

    def get_queryset(self):
        return super().get_queryset().select_related("unit", "appeal", "appeal__category", "handler", "dispatched_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        order: WorkOrder = self.object
        user = self.request.user
        actions = services.allowed_actions(order, user)
        ctx.update(
            actions=actions,
            events=order.events.select_related("actor"),
            attachments=order.attachments.all(),
            consultations=order.consultations.prefetch_related("departments"),
            masked_phone=mask(order.appeal.citizen_phone) if order.appeal.citizen_phone else "",
            appeal_url=appeal_url(order.appeal),
            feedback_form=forms.FeedbackForm(),
            return_form=forms.ReturnForm(),
            reason_form=forms.ReasonForm(),
            extension_form=forms.ExtensionRequestForm(),
            approve_extension_form=forms.ApproveExtensionForm(),
            close_form=forms.CloseForm(),
            note_form=forms.NoteForm(),
            can_list=user.has_role(Role.SUPERVISOR, Role.ADMIN),
            perms_center=user.has_role(*services.CENTER_ROLES),
            can_consult=user.has_role(Role.CENTER_STAFF, Role.SUPERVISOR, Role.ADMIN, Role.UNIT_LEADER),
            consultation_form=forms.ConsultationForm(initial={"held_on": timezone.localdate()}),
            assisting=list(order.assisting_units.all()),
        )
        if Action.SUB_DISPATCH in actions:
            ctx["sub_dispatch_form"] = forms.SubDispatchForm(units=services.subordinate_units(order, user))
        return ctx


def _reason(form) -> str:
    return form.cleaned_data["reason"]


# move slug -> (form class or None, call(order, user, cleaned_data, request) -> order, success message)
MOVE_FORMS = {
    "sign": (None, lambda o, u, d, r: services.sign_for(o, actor=u), _l("已签收。")),
    "start": (None, lambda o, u, d, r: services.start(o, actor=u), _l("已开始办理。")),
    "submit-feedback": (
        forms.FeedbackForm,
        lambda o, u, d, r: services.submit_feedback(
            o,
            actor=u,
            text=d["text"],
            result=d["result"],
            contact_method=d["contact_method"],
            contacted_at=d.get("contacted_at"),
            attachments=d.get("attachments") or [],
        ),
        _l("办结反馈已提交，等待中心审核。"),
    ),
    "approve": (forms.NoteForm, lambda o, u, d, r: services.approve(o, actor=u, note=d["note"]), _l("已审核通过。")),
    "return": (
        forms.ReturnForm,
        lambda o, u, d, r: services.return_for_rework(
            o, actor=u, reason=d["reason"], working_days=d.get("working_days")
        ),
        _l("已退回重办。"),
    ),
    "hand-back": (
        forms.ReasonForm,
        lambda o, u, d, r: services.hand_back(o, actor=u, reason=d["reason"]),
        _l("已退单。"),
    ),
    "sub-dispatch": (
        forms.SubDispatchForm,
        lambda o, u, d, r: services.sub_dispatch(o, actor=u, unit=d["unit"], note=d["note"]),
        _l("已转派。"),
    ),
    "request-extension": (
        forms.ExtensionRequestForm,
        lambda o, u, d, r: services.request_extension(o, actor=u, days=d["days"], reason=d["reason"]),
        _l("延期申请已提交。"),
    ),
    "approve-extension": (
        forms.ApproveExtensionForm,
        lambda o, u, d, r: services.approve_extension(o, actor=u, days=d.get("days"), note=d["note"]),
        _l("已同意延期。"),
    ),
    "refuse-extension": (
        forms.ReasonForm,
        lambda o, u, d, r: services.refuse_extension(o, actor=u, reason=d["reason"]),
        _l("已不同意延期。"),
    ),
    # Review shortcut: approve, then close with the unit's feedback as the reply (two moves, two events).
    "approve-close": (
        forms.CloseForm,
        lambda o, u, d, r: services.close(services.approve(o, actor=u), actor=u, reply=d["reply"]),
        _l("已审核通过并办结。"),
    ),
    "close": (forms.CloseForm, lambda o, u, d, r: services.close(o, actor=u, reply=d["reply"]), _l("工单已办结。")),
    "reopen": (
        forms.ReturnForm,
        lambda o, u, d, r: services.reopen(o, actor=u, reason=d["reason"], working_days=d.get("working_days")),
        _l("工单已重新办理。"),
    ),
    "list": (
        forms.ReasonForm,
        lambda o, u, d, r: services.list_order(o, actor=u, reason=d["reason"]),
        _l("已挂牌督办。"),
    ),
    "unlist": (
        forms.ReasonForm,
        lambda o, u, d, r: services.unlist_order(o, actor=u, reason=d["reason"]),
        _l("已撤销挂牌。"),
    ),
    "consult": (
        forms.ConsultationForm,
        lambda o, u, d, r: services.record_consultation(
            o,
            actor=u,
            topic=d["topic"],
            held_on=d["held_on"],
            departments=list(d["departments"]),
            participants=d["participants"],
            decision=d["decision"],
        ),
        _l("会商记录已保存。"),
    ),
}


def _errors_text(errors) -> str:
    if isinstance(errors, ValidationError):
        if hasattr(errors, "message_dict"):
            return "；".join(m for ms in errors.message_dict.values() for m in ms)
        return "；".join(errors.messages)
    return "；".join(str(m) for ms in errors.values() for m in ms)


@login_required
def move(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """POST one move on an order; refusals come back as a message on the order page."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    order = get_object_or_404(WorkOrder.objects.visible_to(request.user).select_related("unit"), pk=pk)
    if name not in MOVE_FORMS:
        raise Http404
    form_class, call, ok = MOVE_FORMS[name]
    data = {}
    if form_class is not None:
        kwargs = (
            {"units": services.subordinate_units(order, request.user)} if form_class is forms.SubDispatchForm else {}
        )
        form = form_class(request.POST, request.FILES, **kwargs)
        if not form.is_valid():
            messages.error(request, _errors_text(form.errors))
            return redirect(_back(request, order))
        data = form.cleaned_data
    try:
        call(order, request.user, data, request)
    except services.TransitionError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, ok)
    return redirect(_back(request, order))


def _back(request: HttpRequest, order: WorkOrder) -> str:
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return nxt
    return reverse("workorders:detail", args=[order.pk])


@login_required
def dispatch(request: HttpRequest, appeal_pk: int) -> HttpResponse:
    """派单 from the appeal page's panel: the proposed unit is preselected; staff accept or change it."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_role(*services.CENTER_ROLES):
        raise PermissionDenied
    appeal = get_object_or_404(Appeal.objects.visible_to(request.user), pk=appeal_pk)
    form = forms.DispatchForm(request.POST)
    back = request.POST.get("next", "")
    if not form.is_valid():
        messages.error(request, _errors_text(form.errors))
        return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("workorders:workspace"))
    try:
        order = services.dispatch_appeal(
            appeal,
            unit=form.cleaned_data["unit"],
            actor=request.user,
            assisting_units=list(form.cleaned_data["assisting_units"]),
            note=form.cleaned_data["note"],
            working_days=form.cleaned_data["working_days"],
        )
    except (services.TransitionError, ValidationError) as exc:
        messages.error(request, str(exc) if isinstance(exc, services.TransitionError) else _errors_text(exc))
        return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("workorders:workspace"))
    messages.success(request, _("已派单：%(number)s → %(unit)s") % {"number": order.number, "unit": order.unit.name})
    return redirect("workorders:detail", pk=order.pk)


# Bulk moves: the same service function per order as one by one (permission, row lock and
# timeline row each), every order in its own transaction, so one refusal leaves the others done.
BULK_MOVES = {
    "sign": (lambda o, u: services.sign_for(o, actor=u), _l("已签收")),
    "start": (lambda o, u: services.start(o, actor=u), _l("已开始办理")),
    "approve": (lambda o, u: services.approve(o, actor=u), _l("已审核通过")),
}
BULK_LIMIT = 100


def _selected_ids(request: HttpRequest) -> list[int]:
    ids = []
    for raw in request.POST.getlist("ids")[:BULK_LIMIT]:
        if raw.isdigit() and len(raw) <= 12 and int(raw) not in ids:
            ids.append(int(raw))
    return ids


def run_bulk(request: HttpRequest, name: str) -> list[dict]:
    """One result per selected id, in the order selected: {"pk", "number", "ok", "text"}."""
    call, ok_text = BULK_MOVES[name]
    ids = _selected_ids(request)
    orders = WorkOrder.objects.visible_to(request.user).select_related("unit", "appeal").in_bulk(ids)
    results = []
    for pk in ids:
        order = orders.get(pk)
        if order is None:
            results.append({"pk": pk, "number": f"#{pk}", "ok": False, "text": _("工单不存在或不在您的范围内。")})
            continue
        try:
            call(order, request.user)
        except (services.TransitionError, PermissionDenied, ValidationError) as exc:
            text = _errors_text(exc) if isinstance(exc, ValidationError) else str(exc)
            results.append({"pk": pk, "number": order.number, "ok": False, "text": text})
        else:
            results.append({"pk": pk, "number": order.number, "ok": True, "text": str(ok_text)})
    return results


@login_required
def bulk(request: HttpRequest, name: str) -> HttpResponse:
    """签收/开始办理/审核通过 on the selected orders; answers with a result per order.

    With htmx the results replace the list's result box; without, they become messages and the
    user goes back to the list he came from (``next``, a local path) with its filters.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if name not in BULK_MOVES:
        raise Http404
    results = run_bulk(request, name)
    if request.headers.get("HX-Request") == "true":
        fresh = WorkOrder.objects.select_related("unit", "appeal").in_bulk([r["pk"] for r in results if r["ok"]])
        for r in results:
            r["order"] = fresh.get(r["pk"])
        return render(request, "workorders/_bulk_results.html", {"results": results})
    for r in results:
        (messages.success if r["ok"] else messages.error)(request, f"{r['number']}：{r['text']}")
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt:
        return redirect(nxt)
    return redirect("workorders:workspace")


class ReviewView(RoleRequiredMixin, ListView):
    """Center review: feedback waiting for review, extension requests, approved orders to close."""

    allowed_roles = (Role.CENTER_STAFF, Role.ADMIN)
    template_name = "workorders/review.html"
    context_object_name = "orders"

    def get_queryset(self):
        return selectors.review_queue(self.request.user)[:LIST_LIMIT]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            extensions=selectors.extension_queue(self.request.user)[:LIST_LIMIT],
            approved=selectors.approved_queue(self.request.user)[:LIST_LIMIT],
            note_form=forms.NoteForm(),
            return_form=forms.ReturnForm(),
        )
        return ctx


class ListedView(RoleRequiredMixin, ListView):
    """挂牌督办: every listed order, open first."""

    template_name = "workorders/listed.html"
    context_object_name = "orders"

    def get_queryset(self):
        return selectors.listed_orders(self.request.user)[:LIST_LIMIT]


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """节假日: the year's holidays and make-up working days; administrators add or correct days."""
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    is_admin = request.user.has_role(Role.ADMIN)
    form = forms.CalendarDayForm()
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        form = forms.CalendarDayForm(request.POST)
        if form.is_valid():
            day: date = form.cleaned_data["date"]
            services.set_calendar_day(
                actor=request.user, day=day, is_workday=form.cleaned_data["is_workday"], name=form.cleaned_data["name"]
            )
            messages.success(request, _("已保存 %(day)s。") % {"day": day.isoformat()})
            return redirect(f"{reverse('workorders:calendar')}?year={day.year}")
    return render(
        request,
        "workorders/calendar.html",
        {
            "year": year,
            "days": selectors.special_days(year),
            "status": selectors.calendar_status(),
            "form": form,
            "is_admin": is_admin,
            "years": range(year - 1, year + 2),
        },
    )


@login_required
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A feedback attachment, for whoever may see its order (404 otherwise); never a public media URL."""
    item = get_object_or_404(
        FeedbackAttachment.objects.filter(order__in=WorkOrder.objects.visible_to(request.user)), pk=pk
    )
    return FileResponse(item.file.open("rb"), filename=item.name, as_attachment=False)
