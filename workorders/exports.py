"""XLSX exports of the workspace and the review list, and the printable A4 sheets of an order:
承办单 (the order as handed to the unit) and 督办通知单 (the notice of a listed order).

Exports read the same querysets as the lists (``workspace_queryset`` is the workspace's tab, filter
and order; the review list is ``selectors.review_queue``), whole rather than one page.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from intake.phones import mask
from units.choices import Role
from units.exports import Column, back_to, xlsx_response
from units.logging import mask as mask_text
from units.models import Unit
from units.visibility import RoleRequiredMixin

from . import selectors
from .choices import Action
from .models import WorkOrder


def workspace_queryset(request):
    """The workspace's rows for ``request``: the list's own builder, without the page."""
    return selectors.workspace_orders(request.user, request.GET)[2]


def _category(order: WorkOrder) -> str:
    category = order.appeal.category
    return category.name if category else ""


ORDER_COLUMNS = [
    Column(gettext_lazy("工单编号"), lambda o: o.number, 16),
    Column(gettext_lazy("诉求编号"), lambda o: o.appeal_id, 8),
    Column(gettext_lazy("状态"), lambda o: o.get_status_display(), 10),
    Column(gettext_lazy("分级"), lambda o: o.get_severity_display(), 8),
    Column(gettext_lazy("分类"), _category, 14),
    Column(gettext_lazy("承办单位"), lambda o: o.unit.name, 18),
    Column(gettext_lazy("协办单位"), lambda o: "、".join(u.name for u in o.assisting_units.all()), 18),
    Column(gettext_lazy("诉求内容"), lambda o: o.appeal.content, 50, free_text=True),
    Column(gettext_lazy("诉求人"), lambda o: o.appeal.citizen_name, 10, free_text=True),
    Column(gettext_lazy("联系电话"), lambda o: mask(o.appeal.citizen_phone) if o.appeal.citizen_phone else "", 14),
    Column(gettext_lazy("派单时间"), lambda o: o.dispatched_at, 17),
    Column(gettext_lazy("签收时限"), lambda o: o.sign_deadline, 17),
    Column(gettext_lazy("反馈时限"), lambda o: o.due_at, 17),
    Column(gettext_lazy("签收时间"), lambda o: o.signed_at, 17),
    Column(gettext_lazy("承办人"), lambda o: str(o.handler) if o.handler_id else "", 10),
    Column(gettext_lazy("超期"), lambda o: o.is_overdue, 6),
    Column(gettext_lazy("挂牌督办"), lambda o: o.is_listed, 8),
    Column(gettext_lazy("反馈时间"), lambda o: o.feedback_at, 17),
    Column(gettext_lazy("办理结果"), lambda o: o.get_feedback_result_display(), 12),
    Column(gettext_lazy("办理情况"), lambda o: o.feedback_text, 40, free_text=True),
    Column(gettext_lazy("办结时间"), lambda o: o.closed_at, 17),
]


class WorkspaceExportView(RoleRequiredMixin, View):
    """导出: the workspace's current tab and filters as XLSX."""

    def get(self, request, *args, **kwargs):
        return xlsx_response(
            request,
            workspace_queryset(request),
            ORDER_COLUMNS,
            sheet=_("工单"),
            filename="work-orders",
            back=back_to(reverse("workorders:workspace"), request),
        )


class ReviewExportView(RoleRequiredMixin, View):
    """导出: the feedback waiting for review (the review list's first table), whole."""

    allowed_roles = (Role.CENTER_STAFF, Role.ADMIN)

    def get(self, request, *args, **kwargs):
        return xlsx_response(
            request,
            selectors.review_queue(request.user),
            ORDER_COLUMNS,
            sheet=_("待审核工单"),
            filename="review",
            back=reverse("workorders:review"),
        )


# --- printable sheets ----------------------------------------------------------------------------


def issuing_unit() -> Unit | None:
    """The bureau the sheets are issued in the name of: the root of the unit tree."""
    return Unit.objects.filter(parent__isnull=True).order_by("pk").first()


def _visible_order(request, pk: int) -> WorkOrder:
    """The order if the user may see it (404 otherwise: another unit's order does not exist for him)."""
    return get_object_or_404(
        WorkOrder.objects.visible_to(request.user).select_related(
            "unit", "appeal", "appeal__category", "appeal__category__parent", "handler", "dispatched_by"
        ),
        pk=pk,
    )


def _appeal_text(order: WorkOrder) -> dict:
    """The appeal as a sheet shows it: the phone masked, numbers inside free text masked too."""
    appeal = order.appeal
    return {
        "order": order,
        "appeal": appeal,
        "issuer": issuing_unit(),
        "masked_phone": mask(appeal.citizen_phone) if appeal.citizen_phone else "",
        "citizen_name": mask_text(appeal.citizen_name),
        "address": mask_text(appeal.address),
        "title": mask_text(appeal.title),
        "content": mask_text(appeal.content),
    }


class PrintOrderView(RoleRequiredMixin, View):
    """承办单: one work order on an A4 sheet — the appeal (phone masked), category, severity,
    deadlines, responsible and assisting units, and the timeline."""

    def get(self, request, pk: int):
        order = _visible_order(request, pk)
        events = list(order.events.select_related("actor").order_by("created_at", "id"))
        for event in events:
            event.masked_note = mask_text(event.note)
        context = {
            **_appeal_text(order),
            "assisting": list(order.assisting_units.all()),
            "events": events,
            "note": mask_text(order.note),
            "feedback": mask_text(order.feedback_text),
        }
        return render(request, "workorders/print_order.html", context)


class PrintSupervisionView(RoleRequiredMixin, View):
    """督办通知单: the notice of a listed order — reason, deadline, who listed it. Only listed orders
    have one (404 otherwise)."""

    def get(self, request, pk: int):
        order = _visible_order(request, pk)
        if not order.is_listed:
            raise Http404
        listing = (
            order.events.filter(action=Action.LIST)
            .select_related("actor", "actor__unit")
            .order_by("-created_at", "-id")
            .first()
        )
        context = {
            **_appeal_text(order),
            "reason": mask_text(order.listed_reason),
            "supervisor": listing.actor if listing else None,
        }
        return render(request, "workorders/print_supervision.html", context)
