"""Staff pages of the intake app (triage desk, appeal page, hotline form, reveal log) and the
public pages (mayor's and director's mailboxes, /track/). Views are thin: permission, form,
service, message and redirect, or an htmx fragment."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView

from units.auth import client_address
from units.bulk import BULK_LIMIT, act_on_each, selected_ids
from units.choices import Role
from units.errors import Refused
from units.navigation import panels_for
from units.refusals import REFUSALS, show_refusal
from units.visibility import RoleRequiredMixin, VisibleMixin

from . import advisers, ratelimit, selectors, services
from .captcha import check as check_captcha
from .captcha import new_challenge
from .choices import AppealStatus, Channel, Severity
from .filters import AppealFilter
from .forms import (
    AttachmentForm,
    BulkForm,
    CloseForm,
    HotlineForm,
    MailboxForm,
    MarkForDispatchForm,
    MergeForm,
    TrackForm,
    TriageDispatchForm,
    TriageForm,
)
from .models import Appeal, Attachment, PhoneReveal
from .permissions import DESK_ROLES, TRIAGE_ROLES, may_triage
from .phones import hash_of, phone_hash


def client_ip(request: HttpRequest) -> str | None:
    return client_address(request)


def local_path(request: HttpRequest, value: str | None) -> str:
    """``value`` if it is a path on this site ("/appeals/?status=new"), else "" (no open redirect)."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    return value if url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}) else ""


# --- Triage desk -------------------------------------------------------------------------------


def desk_params(query: QueryDict) -> tuple[QueryDict, bool]:
    """The desk's filter parameters from a query string, and whether the "全部" tab is on.

    An empty select ("全部") sends "channel=": it means no filter, not an invalid choice. Paging
    and the open panel are not filters. The desk opens on what waits for triage.
    """
    params = QueryDict(mutable=True)
    for key in query:
        values = [v for v in query.getlist(key) if v.strip()]
        if values and key not in ("cursor", "page_size", "open"):
            params.setlist(key, values)
    if "status" not in params:
        params.setlist("status", [AppealStatus.NEW])
    show_all = params.getlist("status") == ["all"]
    if show_all:
        params.pop("status")
    return params, show_all


def desk_queryset(request, params: QueryDict) -> QuerySet[Appeal]:
    """The desk's filtered queue (nothing when the filters are invalid), unordered."""
    base = selectors.visible_appeals(request.user)
    filterset = AppealFilter(params, queryset=base, request=request)
    return _listed(request, filterset, params, base)


def _listed(request, filterset: AppealFilter, params: QueryDict, base: QuerySet[Appeal]) -> QuerySet[Appeal]:
    """The queue ``filterset`` selects, its filters applied to what the desk lists for ``params``
    (a unit user's 全部 and 已办结 from his unit's entries, ``selectors.desk_source``)."""
    if not filterset.is_valid():
        return base.none()
    return filterset.filter_queryset(selectors.desk_source(request.user, params))


def desk_url(queue: str, **extra) -> str:
    """The desk's URL for a queue query string, with ``extra`` parameters (e.g. open=<pk>)."""
    query = QueryDict(queue, mutable=True)
    query.pop("open", None)
    for key, value in extra.items():
        query[key] = str(value)
    text = query.urlencode()
    return f"{reverse('intake:desk')}?{text}" if text else reverse("intake:desk")


def _queue_of(request) -> str:
    """The desk query string the panel belongs to (the list's filters, tab and page)."""
    query = request.GET.copy()
    query.pop("open", None)
    return query.urlencode()


class DeskView(VisibleMixin, ListView):
    """One queue of appeals from every channel, most severe and oldest first, keyset-paged.

    ``?open=<pk>`` opens an appeal in the side panel: htmx asks for the panel alone (the list
    stays, its scroll too), a full load of the same URL (back button, shared link) renders the
    desk with the panel open.
    """

    model = Appeal
    template_name = "intake/desk.html"
    allowed_roles = DESK_ROLES
    page_size = 50

    def get_queryset(self):
        return super().get_queryset().select_related("category", "category__parent", "unit")

    def size(self, request) -> int:
        try:
            return max(5, min(200, int(request.GET.get("page_size", self.page_size))))
        except ValueError:
            return self.page_size

    def opened(self, request) -> Appeal | None:
        raw = request.GET.get("open", "")
        if not raw.isdigit() or len(raw) > 12:
            return None
        return (
            selectors.visible_appeals(request.user)
            .select_related("proposed_unit", "repeat_of")
            .filter(pk=int(raw))
            .first()
        )

    def get(self, request, *args, **kwargs):
        opened = self.opened(request)
        if request.headers.get("HX-Target") == "desk-panel":
            if opened is None:
                raise Http404
            return render(request, "intake/_desk_panel.html", panel_context(request, opened, queue=_queue_of(request)))
        params, show_all = desk_params(request.GET)
        base = self.get_queryset()
        filterset = AppealFilter(params, queryset=base, request=request)
        without_status = params.copy()
        without_status.pop("status", None)
        text = params.get("q")
        # A unit user's counts from his unit's entries (``selectors.desk_source`` without a status).
        counted = selectors.desk_source(request.user, without_status)
        counts = selectors.status_counts(AppealFilter(without_status, queryset=counted, request=request).qs, text=text)
        qs = _listed(request, filterset, params, base)
        page = selectors.queue_page(
            qs,
            text=text,
            cursor=request.GET.get("cursor"),
            size=self.size(request),
            unsearched=desk_queryset(request, _without(params, "q")) if text else None,
        )
        next_params = _without(request.GET, "open")
        next_params["cursor"] = page.next_cursor or ""
        tab_params = without_status.copy()
        tab_params.pop("cursor", None)
        tabs = [
            {
                "value": s.value,
                "label": s.label,
                "count": counts[s.value],
                "count_label": selectors.count_label(counts[s.value]),
                "active": params.getlist("status") == [s.value],
            }
            for s in AppealStatus
        ]
        queue = _queue_of(request)
        context = {
            "filter": filterset,
            "appeals": page.items,
            "next_url": f"?{next_params.urlencode()}" if page.next_cursor else "",
            "first_url": f"?{_without(_without(request.GET, 'cursor'), 'open').urlencode()}"
            if request.GET.get("cursor")
            else "",
            "tabs": tabs,
            # "全部" includes the whole history: not counted, like the closed and merged tabs.
            "total": None,
            "total_label": "",
            "show_all": show_all,
            "tab_query": tab_params.urlencode(),
            "can_triage": may_triage(request.user),
            "queue": queue,
            "back": desk_url(queue),
            "bulk_form": BulkForm(),
        }
        if opened is not None:
            context.update(panel_context(request, opened, queue=queue))
        return render(request, self.template_name, context)


def _without(query: QueryDict, key: str) -> QueryDict:
    copy = query.copy()
    copy.pop(key, None)
    return copy


def panel_context(request, appeal: Appeal, *, queue: str, form=None, done=None) -> dict:
    """What the desk's side panel shows: the appeal, its triage-and-dispatch form (the proposal
    preselected) and the links to the other actions, each carrying the way back to the queue."""
    if form is None:
        form = TriageDispatchForm(
            initial={
                "kind": appeal.kind,
                "category": appeal.category_id,
                "severity": appeal.severity,
                "unit": appeal.proposed_unit_id or _system_proposed_unit(appeal),
                "then": "close",
                "queue": queue,
            }
        )
    can_triage = request.user.has_role(*TRIAGE_ROLES) and appeal.is_open
    return {
        "panel": appeal,
        "panel_form": form,
        "panel_done": done,
        "panel_can_triage": can_triage,
        # 答复并办结 in the panel: the public reply prefilled from the category's reply template.
        "panel_close_form": CloseForm(initial={"reply": close_reply_prefill(appeal, user=request.user)})
        if can_triage
        else None,
        "panel_history": selectors.caller_history(
            appeal.citizen_phone_hash, user=request.user, exclude_pk=appeal.pk, limit=5
        ),
        "queue": queue,
        "back": desk_url(queue),
        "panel_back": desk_url(queue, open=appeal.pk),
    }


def _errors_text(form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def next_in_queue(request, appeal: Appeal, *, queue: str, position: dict | None) -> Appeal | None:
    """The appeal after ``appeal`` in the desk's filtered queue (wrapping to its first row)."""
    params, _show_all = desk_params(QueryDict(queue))
    qs = desk_queryset(request, params).exclude(pk=appeal.pk)
    text = params.get("q")
    unsearched = desk_queryset(request, _without(params, "q")).exclude(pk=appeal.pk) if text else None
    if position:
        marker = Appeal(severity_rank=position["severity_rank"], received_at=position["received_at"], pk=position["pk"])
        cursor = selectors.queue_cursor(marker, text=text)
        after = selectors.queue_page(qs, text=text, cursor=cursor, size=1, unsearched=unsearched).items
        if after:
            return after[0]
    first = selectors.queue_page(qs, text=text, size=1, unsearched=unsearched).items
    return first[0] if first else None


def _row(request, appeal: Appeal) -> Appeal:
    return selectors.visible_appeals(request.user).filter(pk=appeal.pk).first() or appeal


class DeskBulkView(RoleRequiredMixin, View):
    """Bulk actions on the desk's selected appeals, each through the same service as one by one
    (its permission check, row lock and timeline row), each appeal in its own transaction: a
    refusal is reported on its row and the others are done.

    待派单 (mark for dispatch), 设分类, 设分级; 按建议派单 is the work-orders app's
    (``workorders.views.DeskBulkDispatchView``), on the same bar and the same way.
    """

    allowed_roles = TRIAGE_ROLES
    limit = BULK_LIMIT
    actions = ("mark_for_dispatch", "set_category", "set_severity")

    def action_of(self, request) -> str:
        return request.POST.get("action", "")

    def post(self, request):
        action = self.action_of(request)
        if action not in self.actions:
            return HttpResponse(_("未知的批量操作。"), status=400, content_type="text/plain; charset=utf-8")
        form = BulkForm(request.POST)
        if not form.is_valid() or (action == "set_category" and not form.cleaned_data["category"]):
            message = _("请选择分类。") if form.is_valid() else _errors_text(form)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        if action == "set_severity" and not form.cleaned_data["severity"]:
            return HttpResponse(_("请选择分级。"), status=400, content_type="text/plain; charset=utf-8")
        ids = selected_ids(request, limit=self.limit)
        results = act_on_each(
            ids,
            selectors.visible_appeals(request.user).select_related("proposed_unit").in_bulk(ids),
            lambda appeal: self.perform(request, appeal, action, form.cleaned_data),
            key="code",
            label=lambda appeal: appeal.tracking_code,
            missing=_("诉求不存在或不在您的范围内。"),
        )
        queue = request.POST.get("queue", "")[:2000]
        if request.headers.get("HX-Request") != "true":
            for r in results:
                (messages.success if r["ok"] else messages.error)(request, f"{r['code']}：{r['text']}")
            return redirect(desk_url(queue))
        rows = selectors.visible_appeals(request.user).in_bulk([r["pk"] for r in results])
        for r in results:
            r["row"] = rows.get(r["pk"])
        context = {"results": results, "queue": queue, "back": desk_url(queue), "can_triage": True}
        return render(request, "intake/_desk_bulk_results.html", context)

    def perform(self, request, appeal: Appeal, action: str, data: dict) -> str:
        user = request.user
        if action == "mark_for_dispatch":
            services.mark_for_dispatch(appeal, actor=user, proposed_unit=appeal.proposed_unit)
            return _("已标记为待派单")
        if action == "set_category":
            services.triage_appeal(appeal, actor=user, category=data["category"])
            return _("分类已设为%(name)s") % {"name": data["category"].name}
        services.triage_appeal(appeal, actor=user, severity=data["severity"])
        return _("分级已设为%(name)s") % {"name": Severity(data["severity"]).label}


# --- Appeal page ---------------------------------------------------------------------------------


class AppealDetailView(VisibleMixin, DetailView):
    """An appeal with its timeline, the caller's history, similar appeals and the triage actions."""

    model = Appeal
    template_name = "intake/appeal_detail.html"
    context_object_name = "appeal"
    allowed_roles = DESK_ROLES

    def get_queryset(self):
        return super().get_queryset().select_related("category", "unit", "proposed_unit", "repeat_of", "merged_into")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        appeal: Appeal = self.object
        user = self.request.user
        extra = []
        for panel in panels_for("APPEAL_PANELS", user):
            extra.append(
                {"template": panel.template, "context": panel.context(self.request, appeal) if panel.context else {}}
            )
        can_triage = may_triage(user, appeal)
        context.update(
            {
                # Where the user came from (the desk with its filters): the way back, and where
                # close, merge and "待派单" return to.
                "back": kwargs.get("back") or local_path(self.request, self.request.GET.get("back")),
                "desk_url": reverse("intake:desk"),
                "act": kwargs.get("act") or self.request.GET.get("act", ""),
                "events": appeal.events.select_related("actor").order_by("created_at", "id"),
                "history": selectors.caller_history(appeal.citizen_phone_hash, user=user, exclude_pk=appeal.pk),
                "similar": selectors.similar_appeals(appeal, user=user),
                "attachments": appeal.attachments.all(),
                "panels": extra,
                "can_triage": can_triage,
                "triage_form": TriageForm(
                    initial={
                        "kind": appeal.kind,
                        "category": appeal.category_id,
                        "severity": appeal.severity,
                        "proposed_unit": appeal.proposed_unit_id or _system_proposed_unit(appeal),
                    }
                ),
                # The public reply starts from the category's reply template, to edit and confirm.
                "close_form": kwargs.get("close_form")
                or CloseForm(initial={"reply": close_reply_prefill(appeal, user=user) if can_triage else ""}),
                "merge_form": MergeForm(initial={"into": appeal.repeat_of.tracking_code if appeal.repeat_of else ""}),
                "mark_form": MarkForDispatchForm(),
                "attachment_form": AttachmentForm(),
                "action_labels": services.ACTION_LABELS,
            }
        )
        return context


def _system_proposed_unit(appeal: Appeal) -> int | None:
    """The unit the dispatch rules propose (place, then category), through ``advisers``."""
    unit = advisers.proposed_unit(appeal)
    return unit.pk if unit else None


class AppealActionView(RoleRequiredMixin, View):
    """Base of the POST actions on one appeal: fetch it through visibility, run, report, go back."""

    allowed_roles = TRIAGE_ROLES
    form_class = None

    def post(self, request, pk: int):
        appeal = get_object_or_404(Appeal.objects.visible_to(request.user), pk=pk)
        # "next": where the user came from (the desk with its filters); a local path only.
        back = local_path(request, request.POST.get("next")) or reverse("intake:appeal", args=[appeal.pk])
        form = self.form_class(request.POST, request.FILES)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        try:
            text = self.perform(request, appeal, form.cleaned_data)
        except (ValidationError, Refused) as exc:
            show_refusal(request, exc)
        else:
            messages.success(request, text)
        return redirect(back)

    def perform(self, request, appeal: Appeal, data: dict) -> str:
        raise NotImplementedError


class TriageView(AppealActionView):
    form_class = TriageForm

    def perform(self, request, appeal, data):
        services.triage_appeal(
            appeal,
            actor=request.user,
            kind=data["kind"],
            category=data["category"],
            severity=data["severity"],
            proposed_unit=data["proposed_unit"],
            note=data["note"],
        )
        return _("研判结果已保存。")


def close_reply_prefill(appeal: Appeal, *, user) -> str:
    """The public reply an answer-and-close starts from: the category's reply template (else the
    default one; ``{unit}`` is the center's own unit), empty when there is none. Only a prefill:
    the center edits and confirms it, and the box is required."""
    unit = getattr(user, "unit", None)
    return advisers.proposed_reply(appeal, unit_name=unit.name if unit else "")


class CloseView(AppealActionView):
    """答复并办结 (from the desk panel or the appeal page): the public reply the center confirmed
    closes the appeal, then back to where the user came from (``next``). A refusal never loses the
    text: the appeal page comes back with the box open, bound, the errors beside it (422)."""

    form_class = CloseForm

    def post(self, request, pk: int):
        from units.refusals import refusal_text

        appeal = get_object_or_404(Appeal.objects.visible_to(request.user), pk=pk)
        back = local_path(request, request.POST.get("next"))
        form = CloseForm(request.POST)
        if form.is_valid():
            try:
                services.close_appeal(
                    appeal, actor=request.user, reply=form.cleaned_data["reply"], note=form.cleaned_data["note"]
                )
            except REFUSALS as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, _("已答复并办结。"))
                return redirect(back or reverse("intake:appeal", args=[appeal.pk]))
        page = AppealDetailView()
        page.setup(request, pk=appeal.pk)
        page.object = page.get_object()
        context = page.get_context_data(object=page.object, close_form=form, back=back, act="close")
        return render(request, page.template_name, context, status=422)


class MergeView(AppealActionView):
    form_class = MergeForm

    def perform(self, request, appeal, data):
        into = Appeal.objects.visible_to(request.user).filter(tracking_code=data["into"].strip().upper()).first()
        if into is None:
            raise ValidationError(_("未找到查询码为 %(code)s 的诉求。") % {"code": data["into"]})
        services.merge_appeal(appeal, into=into, actor=request.user, note=data["note"])
        return _("已合并至 %(code)s。") % {"code": into.tracking_code}


class MarkForDispatchView(AppealActionView):
    form_class = MarkForDispatchForm

    def perform(self, request, appeal, data):
        services.mark_for_dispatch(appeal, actor=request.user, note=data["note"], proposed_unit=appeal.proposed_unit)
        return _("已标记为待派单。")


class AttachmentUploadView(AppealActionView):
    form_class = AttachmentForm

    def perform(self, request, appeal, data):
        services.add_attachment(appeal, upload=data["file"], actor=request.user)
        return _("附件已上传。")


class RevealPhoneView(RoleRequiredMixin, View):
    """The deliberate "显示完整号码" with a reason: logged, answered with an htmx fragment;
    400 with the message and nothing revealed when the reason is missing."""

    allowed_roles = DESK_ROLES

    def post(self, request, pk: int):
        appeal = get_object_or_404(Appeal.objects.visible_to(request.user), pk=pk)
        try:
            phone = services.reveal_phone(
                appeal, actor=request.user, reason=request.POST.get("reason"), ip=client_ip(request)
            )
        except ValidationError as exc:
            # htmx shows a 4xx body in the page's error box; nothing was revealed or logged.
            return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
        response = render(request, "intake/_revealed_phone.html", {"phone": phone})
        response["Cache-Control"] = "no-store"
        return response


class AttachmentDownloadView(RoleRequiredMixin, View):
    allowed_roles = DESK_ROLES

    def get(self, request, pk: int):
        attachment = get_object_or_404(Attachment.objects.select_related("appeal"), pk=pk)
        if not Appeal.objects.visible_to(request.user).filter(pk=attachment.appeal_id).exists():
            raise Http404
        return FileResponse(attachment.file.open("rb"), filename=attachment.original_name or None)


# --- Hotline -----------------------------------------------------------------------------------


class HotlineView(RoleRequiredMixin, View):
    """Center staff type a call in; the caller's earlier appeals appear beside the form."""

    allowed_roles = TRIAGE_ROLES
    template_name = "intake/hotline.html"

    def get(self, request):
        return render(request, self.template_name, {"form": HotlineForm()})

    def post(self, request):
        form = HotlineForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                appeal, _created = services.create_appeal(
                    channel=data["channel"],
                    content=data["content"],
                    title=data["title"],
                    citizen_name=data["citizen_name"],
                    citizen_phone=data["citizen_phone"],
                    address=data["address"],
                    kind=data["kind"],
                    category=data["category"],
                    severity=data["severity"] or None,
                    is_enterprise=data["is_enterprise"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("已登记诉求 %(code)s(%(severity)s)。")
                    % {"code": appeal.tracking_code, "severity": appeal.get_severity_display()},
                )
                if appeal.risk_words:
                    messages.warning(
                        request, _("风险预警：内容含“%(words)s”，已建议红色。") % {"words": appeal.risk_words}
                    )
                if appeal.is_repeat:
                    messages.warning(request, _("该来电人近期有相似诉求，已标记为重复诉求。"))
                if request.POST.get("next") == "appeal":
                    return redirect("intake:appeal", pk=appeal.pk)
                return redirect("intake:hotline")
        return render(request, self.template_name, {"form": form}, status=400 if request.method == "POST" else 200)


class CallerHistoryView(RoleRequiredMixin, View):
    """htmx fragment: the caller's earlier appeals as the number is typed (POST: no phone in a URL)."""

    allowed_roles = TRIAGE_ROLES

    def post(self, request):
        raw = request.POST.get("citizen_phone", "")
        digits = "".join(ch for ch in raw if ch.isdigit())
        caller = hash_of(raw) if len(digits) >= 7 else None
        items = selectors.caller_history(caller, user=request.user, limit=10) if caller else []
        return render(request, "intake/_caller_history.html", {"items": items, "looked_up": bool(caller)})


class SeverityPreviewView(RoleRequiredMixin, View):
    """htmx fragment: the severity the system will propose for what has been typed so far."""

    allowed_roles = TRIAGE_ROLES

    def post(self, request):
        from .models import Category

        category = None
        if request.POST.get("category", "").isdigit():
            category = Category.objects.filter(pk=int(request.POST["category"])).first()
        text = f"{request.POST.get('title', '')}\n{request.POST.get('content', '')}"
        proposal = services.propose_severity(content=text, category=category)
        return render(
            request, "intake/_severity_preview.html", {"proposal": proposal, "severity": Severity(proposal.severity)}
        )


# --- Phone reveal log ------------------------------------------------------------------------


class PhoneRevealListView(RoleRequiredMixin, ListView):
    """Who saw which citizen's full number, when, from where, why and on which object: for
    administrators. Every app's reveals are in this one log."""

    allowed_roles = (Role.ADMIN,)
    template_name = "intake/phone_reveals.html"
    paginate_by = 100
    context_object_name = "reveals"

    def get_queryset(self):
        return PhoneReveal.objects.select_related("user", "user__unit", "appeal").order_by("-created_at", "-id")


# --- Public mailboxes and tracking -------------------------------------------------------------

MAILBOXES = {
    "mayor": (Channel.MAYOR_MAILBOX, gettext_lazy("市长信箱")),
    "director": (Channel.DIRECTOR_MAILBOX, gettext_lazy("局长信箱")),
}

PUBLIC_STATUS = {
    AppealStatus.NEW: gettext_lazy("已受理，等待分办"),
    AppealStatus.PENDING_DISPATCH: gettext_lazy("已受理，等待分办"),
    AppealStatus.DISPATCHED: gettext_lazy("办理中"),
    AppealStatus.CLOSED: gettext_lazy("已办结"),
    AppealStatus.MERGED: gettext_lazy("已与相同事项合并办理"),
}


def _with_device(request, render_response) -> HttpResponse:
    device = ratelimit.device_of(request) or ratelimit.new_device_id()
    response = render_response(device)
    ratelimit.ensure_device(request, response, device)
    return response


@never_cache
def mailbox(request: HttpRequest, box: str) -> HttpResponse:
    """The public letter form; a letter needs the captcha, and phone/device/IP counters allow it."""
    if box not in MAILBOXES:
        raise Http404
    channel, title = MAILBOXES[box]

    def page(form, device, status=200):
        token, image = new_challenge(device)
        form.fields["captcha_token"].initial = token
        if form.is_bound:
            data = form.data.copy()
            data["captcha_token"] = token
            data["captcha"] = ""
            form.data = data
        return render(
            request, "intake/mailbox.html", {"form": form, "title": title, "image": image, "box": box}, status=status
        )

    if request.method != "POST":
        return _with_device(request, lambda device: page(MailboxForm(), device))

    device = ratelimit.device_of(request)
    form = MailboxForm(request.POST, request.FILES)
    if device is None:
        # No device cookie: the browser did not load the form (or refuses cookies).
        form.add_error(None, _("请先打开来信页面再提交（需要允许浏览器保存 Cookie）。"))
        return _with_device(request, lambda d: page(form, d, 400))
    if not form.is_valid():
        return _with_device(request, lambda d: page(form, d, 400))
    data = form.cleaned_data
    ip = client_ip(request) or "unknown"
    # Wrong answers are counted per address as well as per device: dropping the cookie does not
    # buy more guesses.
    if (
        ratelimit.peek(f"captcha-fail:ip:{ip}") >= settings.INTAKE_CAPTCHA_FAILURES_PER_IP_PER_HOUR
        or ratelimit.peek(f"captcha-fail:device:{device}") >= settings.INTAKE_CAPTCHA_FAILURES_PER_DEVICE_PER_HOUR
    ):
        form.add_error("captcha", _("验证码错误次数过多，请一小时后再试；紧急情况请拨打110。"))
        return _with_device(request, lambda d: page(form, d, 429))
    if not check_captcha(data["captcha_token"], data["captcha"], device):
        ratelimit.hit(f"captcha-fail:ip:{ip}", limit=settings.INTAKE_CAPTCHA_FAILURES_PER_IP_PER_HOUR, window=3600)
        ratelimit.hit(
            f"captcha-fail:device:{device}", limit=settings.INTAKE_CAPTCHA_FAILURES_PER_DEVICE_PER_HOUR, window=3600
        )
        form.add_error("captcha", _("验证码不正确或已过期，请看清新的图片后重新输入。"))
        return _with_device(request, lambda d: page(form, d, 400))
    caller = phone_hash(data["citizen_phone"])
    allowed = (
        ratelimit.hit(f"ip:{ip}", limit=settings.INTAKE_MAILBOX_PER_IP_PER_HOUR, window=3600)
        and ratelimit.hit(f"ip-day:{ip}", limit=settings.INTAKE_MAILBOX_PER_IP_PER_DAY, window=86400)
        and ratelimit.hit(f"device:{device}", limit=settings.INTAKE_MAILBOX_PER_DEVICE_PER_DAY, window=86400)
        and ratelimit.hit(f"phone:{caller}", limit=settings.INTAKE_MAILBOX_PER_PHONE_PER_DAY, window=86400)
    )
    if not allowed:
        form.add_error(None, _("提交过于频繁，请明天再试；紧急情况请拨打110。"))
        return _with_device(request, lambda d: page(form, d, 429))
    with transaction.atomic():
        appeal, _created = services.create_appeal(
            channel=channel,
            content=data["content"],
            title=data["title"],
            citizen_name=data["citizen_name"],
            citizen_phone=data["citizen_phone"],
            address=data["address"],
            is_enterprise=data["is_enterprise"],
            kind=None,
        )
        if data.get("attachment"):
            services.add_attachment(appeal, upload=data["attachment"])
    request.session["intake_sent_code"] = appeal.tracking_code
    return redirect("intake:mailbox_sent", box=box)


@never_cache
def mailbox_sent(request: HttpRequest, box: str) -> HttpResponse:
    if box not in MAILBOXES:
        raise Http404
    code = request.session.get("intake_sent_code")
    if not code:
        return redirect("intake:mailbox", box=box)
    return render(request, "intake/mailbox_sent.html", {"code": code, "title": MAILBOXES[box][1]})


@never_cache
def track(request: HttpRequest) -> HttpResponse:
    """Status and public reply of one appeal for its tracking code + phone, and nothing else."""
    result, not_found = None, False
    form = TrackForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        refusal = ratelimit.track_refusal(
            code=code,
            address=client_address(request) or "unknown",
            device=ratelimit.device_of(request) or "none",
        )
        if refusal:
            form.add_error(None, refusal)
            status = 429
        else:
            appeal = (
                Appeal.objects.filter(tracking_code=code, citizen_phone_hash=phone_hash(form.cleaned_data["phone"]))
                .only("tracking_code", "status", "received_at", "closed_at", "public_reply", "channel", "merged_into")
                .first()
            )
            if appeal is None:
                not_found = True
                ratelimit.count_track_failure(code)
            else:
                # A letter merged into an earlier appeal about the same matter follows that one's progress.
                handled = appeal
                if appeal.status == AppealStatus.MERGED and appeal.merged_into_id:
                    handled = Appeal.objects.filter(pk=appeal.merged_into_id).first() or appeal
                closed = handled.status == AppealStatus.CLOSED
                result = {
                    "code": appeal.tracking_code,
                    "channel": appeal.get_channel_display(),
                    "received_at": appeal.received_at,
                    "status": PUBLIC_STATUS[handled.status],
                    "merged": handled is not appeal,
                    "closed": closed,
                    "closed_at": handled.closed_at,
                    "reply": handled.public_reply if closed else "",
                }
    elif request.method == "POST":
        status = 400

    def page(device):
        return render(
            request, "intake/track.html", {"form": form, "result": result, "not_found": not_found}, status=status
        )

    return _with_device(request, page)
