"""Staff pages: the unit workspace, the order page and its moves, center review, listed orders, calendar.

Views are thin: permission, form, service, message, redirect. Every move is a POST to
``workorders/<pk>/<move>/`` handled by ``move`` with the table ``MOVE_FORMS`` below.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views import View
from django.views.generic import DetailView, ListView

from intake import services as intake_services
from intake.forms import TriageDispatchForm
from intake.models import Appeal
from intake.permissions import TRIAGE_ROLES
from intake.phones import mask
from intake.selectors import visible_appeals
from intake.views import DeskBulkView, desk_url, next_in_queue, panel_context
from intake.views import _errors_text as desk_errors_text
from intake.views import _row as desk_row
from units.bulk import act_on_each, selected_ids
from units.choices import Role
from units.errors import Refused
from units.models import Unit
from units.refusals import REFUSALS, refusal_text, show_refusal, validation_text
from units.unit_options import bound_unit_field
from units.visibility import RoleRequiredMixin, VisibleMixin

from . import forms, permissions, selectors, services
from .choices import Action, WorkOrderStatus
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
        self.tab, self.filterset, qs = selectors.workspace_orders(self.request.user, self.request.GET)
        self.ordering_key = selectors.workspace_ordering(self.request.user, self.tab)
        qs = selectors.after_cursor(selectors.list_rows(qs), self.ordering_key, self.request.GET.get("after", ""))
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
        # The unit filter offers the top of the user's tree and the way down to a chosen unit,
        # never a <select> of every unit of a province.
        bound_unit_field(self.filterset.form, "unit", units=Unit.objects.filter(is_active=True).visible_to(user))
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
        ctx.update(detail_context(self.request, self.object))
        return ctx


def move_forms(order: WorkOrder, user, actions: list[str]) -> dict:
    """A fresh form per move of the order page, keyed by the move's slug with underscores.

    Moves that share a form class (退单, 不同意延期, 挂牌 all ask a reason) get an instance each, so a
    form re-rendered with its errors and text does not fill the others. The close box starts from
    the category's reply template or the unit's feedback (a prefill to check, never sent unseen).
    """
    result = {
        "submit_feedback": forms.FeedbackForm(),
        "approve": forms.NoteForm(),
        "return": forms.ReturnForm(),
        "reopen": forms.ReturnForm(),
        "hand_back": forms.ReasonForm(),
        "refuse_extension": forms.ReasonForm(),
        "list": forms.ReasonForm(),
        "unlist": forms.ReasonForm(),
        "request_extension": forms.ExtensionRequestForm(),
        "approve_extension": forms.ApproveExtensionForm(),
        "consult": forms.ConsultationForm(initial={"held_on": timezone.localdate()}),
    }
    if Action.CLOSE in actions or Action.APPROVE in actions:
        reply, source = services.reply_prefill(order)
        result["close"] = result["approve_close"] = forms.CloseForm(initial={"reply": reply})
        result["reply_source"] = source
    if Action.SUB_DISPATCH in actions:
        result["sub_dispatch"] = forms.SubDispatchForm(units=services.subordinate_units(order, user))
    return result


def detail_context(request: HttpRequest, order: WorkOrder) -> dict:
    """What the order page shows besides the order: timeline, files, contact, the move forms."""
    user = request.user
    actions = services.allowed_actions(order, user)
    return {
        "order": order,
        "actions": actions,
        "events": order.events.select_related("actor"),
        "attachments": order.attachments.all(),
        "consultations": order.consultations.prefetch_related("departments"),
        "masked_phone": mask(order.appeal.citizen_phone) if order.appeal.citizen_phone else "",
        "appeal_url": appeal_url(order.appeal),
        "move_forms": move_forms(order, user, actions),
        "can_list": permissions.may_list(user),
        "perms_center": permissions.may_dispatch(user),
        "can_consult": permissions.may_consult(user),
        "assisting": list(order.assisting_units.all()),
        # The list the user came from (workspace, review, listed, with filters, tab and page): the
        # page's way back, carried through every move so it survives the round trip.
        "back": _local(request.GET.get("back") or request.POST.get("back", "")),
    }


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
    # Review shortcut: approve, then close with the public reply the center confirmed (two events).
    "approve-close": (forms.CloseForm, lambda o, u, d, r: _approve_close(o, u, d["reply"]), _l("已审核通过并办结。")),
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
    """A bound form's errors as one line (a service's refusal reads through ``refusal_text``)."""
    return "；".join(str(m) for ms in errors.values() for m in ms)


def _approve_close(order: WorkOrder, user, reply: str) -> WorkOrder:
    # Both or neither: an approval must not stay behind when the close is refused.
    with transaction.atomic():
        return services.close(services.approve(order, actor=user), actor=user, reply=reply)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def move(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """POST one move on an order.

    A refusal never loses what was typed: the form comes back bound, its errors beside the fields
    and a domain refusal (``Refused``) above it — the form alone for htmx, else the whole
    page (the order page, or the reply page for 通过并办结) with that form in place.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    order = get_object_or_404(WorkOrder.objects.visible_to(request.user).select_related("unit"), pk=pk)
    if name not in MOVE_FORMS:
        raise Http404
    form_class, call, ok = MOVE_FORMS[name]
    form = None
    data = {}
    if form_class is not None:
        kwargs = (
            {"units": services.subordinate_units(order, request.user)} if form_class is forms.SubDispatchForm else {}
        )
        form = form_class(request.POST, request.FILES, **kwargs)
        if not form.is_valid():
            return _refused(request, order, name, form, "")
        data = form.cleaned_data
    try:
        call(order, request.user, data, request)
    except (Refused, PermissionDenied) as exc:
        return _refused(request, order, name, form, refusal_text(exc))
    except ValidationError as exc:
        return _refused(request, order, name, form, _place_errors(form, exc))
    messages.success(request, ok)
    back = _back(request, order)
    if _is_htmx(request):
        # The move is done: the whole page reloads where the user was, showing the new state.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = back
        return response
    return redirect(back)


def _place_errors(form, exc: ValidationError) -> str:
    """Put a service's field errors beside the form's fields; what has no field is returned as text."""
    if form is None or not hasattr(exc, "error_dict"):
        return validation_text(exc)
    rest = []
    for field, errors in exc.message_dict.items():
        if field in form.fields:
            for message in errors:
                form.add_error(field, message)
        else:
            rest.extend(errors)
    return "；".join(rest)


def _refused(request: HttpRequest, order: WorkOrder, name: str, form, error: str) -> HttpResponse:
    order = WorkOrder.objects.select_related("unit", "appeal", "appeal__category", "handler").get(pk=order.pk)
    # The whole page, the form in place; htmx picks the form out of it (hx-select) and swaps it in.
    # 200 for htmx (it swaps only successful responses), 422 for a plain POST.
    status = 200 if _is_htmx(request) else 422
    if name == "approve-close":
        ctx = reply_page_context(order, form)
    else:
        ctx = detail_context(request, order)
        ctx["move_forms"][name.replace("-", "_")] = form
        # The order moved on meanwhile (handed back, approved in another tab): the move's form is
        # no longer among the page's forms, so it is shown on its own with the refusal and the text.
        if name.replace("-", "_") not in ctx["actions"] and name not in ("consult", "list", "unlist"):
            ctx["failed_form"] = form
    # 通过并办结 on an order approved meanwhile comes back as the plain close, the text kept.
    ctx.update(failed=ctx.get("name", name), failed_error=error, next=_local(request.POST.get("next", "")))
    template = "workorders/reply.html" if name == "approve-close" else "workorders/detail.html"
    return render(request, template, ctx, status=status)


def reply_page_context(order: WorkOrder, form=None) -> dict:
    """The reply box of a close: prefilled from the reply template or (to check) the unit's feedback."""
    reply, source = services.reply_prefill(order)
    return {
        "order": order,
        "name": "approve-close" if order.status == WorkOrderStatus.FEEDBACK_SUBMITTED else "close",
        "form": form or forms.CloseForm(initial={"reply": reply}),
        "reply_source": source,
    }


@login_required
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """答复群众: the close box (通过并办结 on the review list, 办结 on an approved order).

    The public reply is edited and confirmed here before anything is published; with htmx only
    the box is returned, to open in the list row.
    """
    if not permissions.may_review(request.user):
        raise PermissionDenied
    order = get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related("unit", "appeal", "appeal__category"), pk=pk
    )
    if order.status not in (WorkOrderStatus.FEEDBACK_SUBMITTED, WorkOrderStatus.APPROVED):
        messages.error(request, _("工单当前状态不能办结。"))
        return redirect("workorders:detail", pk=order.pk)
    ctx = reply_page_context(order)
    ctx["next"] = _local(request.GET.get("next", ""))
    template = "workorders/_reply_box.html" if _is_htmx(request) else "workorders/reply.html"
    return render(request, template, ctx)


def _local(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else ""


def _back(request: HttpRequest, order: WorkOrder) -> str:
    """Where a move returns: ``next`` (a list's own forms), else the order page, keeping the way
    back to the list the user came from (``back``)."""
    nxt = _local(request.POST.get("next", ""))
    if nxt:
        return nxt
    return detail_url(order, back=_local(request.POST.get("back", "")))


def detail_url(order: WorkOrder, *, back: str = "") -> str:
    """The order page, with ``?back=`` when the user came from a list."""
    url = reverse("workorders:detail", args=[order.pk])
    return f"{url}?{urlencode({'back': back})}" if back else url


@login_required
def dispatch(request: HttpRequest, appeal_pk: int) -> HttpResponse:
    """派单 from the appeal page's panel: the proposed unit is preselected; staff accept or change it."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not permissions.may_dispatch(request.user):
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
    except (Refused, ValidationError) as exc:
        show_refusal(request, exc)
        return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("workorders:workspace"))
    messages.success(request, _("已派单：%(number)s → %(unit)s") % {"number": order.number, "unit": order.unit.name})
    # The appeal page passes on its own way back (the desk with its filters).
    return redirect(detail_url(order, back=_local(request.POST.get("back", ""))))


# Bulk moves: the same service function per order as one by one (permission, row lock and
# timeline row each), every order in its own transaction, so one refusal leaves the others done.
BULK_MOVES = {
    "sign": (lambda o, u: services.sign_for(o, actor=u), _l("已签收")),
    "start": (lambda o, u: services.start(o, actor=u), _l("已开始办理")),
    "approve": (lambda o, u: services.approve(o, actor=u), _l("已审核通过")),
}


def run_bulk(request: HttpRequest, name: str) -> list[dict]:
    """One result per selected id, in the order selected: {"pk", "number", "ok", "text"}."""
    call, ok_text = BULK_MOVES[name]
    ids = selected_ids(request)
    orders = WorkOrder.objects.visible_to(request.user).select_related("unit", "appeal").in_bulk(ids)

    def act(order: WorkOrder) -> str:
        call(order, request.user)
        return ok_text

    return act_on_each(
        ids, orders, act, key="number", label=lambda order: order.number, missing=_("工单不存在或不在您的范围内。")
    )


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

    # (context name, queue, its order, its cursor parameter): each a keyset page of PAGE_SIZE with
    # a bounded count ("1000+"), so the page costs the same with 100 or 100,000 orders waiting.
    SECTIONS = (
        ("orders", selectors.review_queue, selectors.REVIEW_ORDER, "after"),
        ("extensions", selectors.extension_queue, selectors.EXTENSION_ORDER, "ext_after"),
        ("approved", selectors.approved_queue, selectors.APPROVED_ORDER, "approved_after"),
    )

    def get_queryset(self):
        user, params = self.request.user, self.request.GET
        self.sections = {}
        for name, queue, ordering, param in self.SECTIONS:
            qs = queue(user)
            rows, cursor = selectors.keyset_page(
                selectors.list_rows(qs), ordering, params.get(param, ""), size=PAGE_SIZE
            )
            following = params.copy()
            following[param] = cursor
            first = params.copy()
            first.pop(param, None)
            count = selectors.bounded_count(qs.select_related(None).prefetch_related(None))
            self.sections[name] = rows
            self.sections[f"{name}_count"] = selectors.count_label(count)
            self.sections[f"{name}_next"] = f"?{following.urlencode()}" if cursor else ""
            self.sections[f"{name}_first"] = f"?{first.urlencode()}" if params.get(param) else ""
        return self.sections["orders"]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(self.sections, note_form=forms.NoteForm(), return_form=forms.ReturnForm())
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
    is_admin = permissions.may_edit_calendar(request.user)
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


# --- The desk's dispatch ----------------------------------------------------------------------
# The desk is intake's; dispatching is this app's action, so its two desk actions live here:
# 研判并派单 from the side panel and 按建议单位派单 from the bulk bar.


class TriageDispatchView(RoleRequiredMixin, View):
    """研判并派单 from the desk panel: triage and dispatch in one transaction, one request.

    ``then=close`` answers with the panel closed and the list's row updated in place;
    ``then=next`` with the next appeal of the same filtered queue in the panel. Either way the
    pushed URL keeps the list's filters, tab and page. Any refusal rolls both back and re-renders
    the form with the message and the input kept.
    """

    allowed_roles = TRIAGE_ROLES

    def post(self, request, pk: int):
        appeal = get_object_or_404(visible_appeals(request.user).select_related("proposed_unit"), pk=pk)
        # Its place in the queue before the triage changes its severity: "next" is the row after
        # it in the list the user is looking at.
        position = {"severity_rank": appeal.severity_rank, "received_at": appeal.received_at, "pk": appeal.pk}
        form = TriageDispatchForm(request.POST)
        queue = request.POST.get("queue", "")[:2000]
        is_htmx = request.headers.get("HX-Request") == "true"
        order = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = triage_and_dispatch(appeal, actor=request.user, data=data)
            except REFUSALS as exc:
                form.add_error(None, getattr(exc, "messages", None) or [str(exc)])
        if form.errors:
            if not is_htmx:
                # Without htmx (no script): the messages on the desk with the panel open again.
                messages.error(request, desk_errors_text(form))
                return redirect(desk_url(queue, open=appeal.pk))
            return render(request, "intake/_desk_panel.html", panel_context(request, appeal, queue=queue, form=form))
        appeal.refresh_from_db()
        done = {
            "appeal": appeal,
            "order": order,
            "text": (
                _("已派单：%(number)s → %(unit)s") % {"number": order.number, "unit": order.unit.name}
                if order
                else _("研判结果已保存。")
            ),
        }
        following = None
        if form.cleaned_data.get("then") == "next":
            following = next_in_queue(request, appeal, queue=queue, position=position)
        if not is_htmx:
            messages.success(request, done["text"])
            return redirect(desk_url(queue, open=following.pk) if following else desk_url(queue))
        if following is not None:
            context = panel_context(request, following, queue=queue, done=done)
            pushed = desk_url(queue, open=following.pk)
        else:
            context = {"panel": None, "panel_done": done, "queue": queue, "back": desk_url(queue)}
            pushed = desk_url(queue)
        context["row"] = desk_row(request, appeal)
        response = render(request, "intake/_desk_panel.html", context)
        response["HX-Push-Url"] = pushed
        return response


def triage_and_dispatch(appeal: Appeal, *, actor, data: dict):
    """Triage ``appeal`` and, when a unit is chosen, dispatch it, all or nothing.

    Calls the same services as the appeal page's two forms (intake.services.triage_appeal,
    services.dispatch_appeal), so permissions, locks and timeline rows are theirs.
    Returns the work order, or None when only the triage was saved.
    """
    with transaction.atomic():
        intake_services.triage_appeal(
            appeal,
            actor=actor,
            kind=data["kind"],
            category=data["category"],
            severity=data["severity"],
            proposed_unit=data.get("unit"),
        )
        if not data.get("unit"):
            return None
        return services.dispatch_appeal(
            appeal,
            unit=data["unit"],
            actor=actor,
            assisting_units=list(data.get("assisting_units") or []),
            note=data.get("note", ""),
            working_days=data.get("working_days"),
        )


class DeskBulkDispatchView(DeskBulkView):
    """按建议单位派单: each selected appeal to its proposed unit (the one chosen at triage, else the
    rules' proposal), through ``dispatch_appeal`` one by one; a row without a proposal is refused
    on its row and the others are dispatched."""

    actions = ("dispatch_proposed",)

    def action_of(self, request) -> str:
        return "dispatch_proposed"

    def perform(self, request, appeal: Appeal, action: str, data: dict) -> str:
        unit = appeal.proposed_unit or services.propose_unit(appeal)
        if unit is None:
            raise ValidationError(_("没有建议承办单位，请在面板中选择后派单。"))
        order = services.dispatch_appeal(appeal, unit=unit, actor=request.user)
        return _("已派单：%(number)s → %(unit)s") % {"number": order.number, "unit": unit.name}
