"""XLSX exports of the surveys lists (ratings, service records, the callback desk)
and the printable 回访记录 of a callback.

Each export view is its list view with another ``get``: the role check, ``visible_to(user)``, the
FilterSet and the order are the list's own ``get_queryset``; only the paging is left out.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from intake.phones import mask
from units.exports import Column, back_to, xlsx_response
from units.logging import mask as mask_text
from units.visibility import RoleRequiredMixin
from workorders.exports import issuing_unit

from .models import Callback
from .views import CENTER_AND_SUPERVISORS, CallbackDeskView, RatingListView, RecordListView, _work_order


def _phone(value: str) -> str:
    return mask(value) if value else ""


def _rating_phone(rating) -> str:
    if rating.phone:
        return _phone(rating.phone)
    return _phone(rating.sms.phone) if rating.sms_id else ""


class _ExportMixin:
    """``get`` of a list view that answers with the XLSX of its whole queryset."""

    columns: list[Column] = []
    sheet = ""
    filename = ""
    list_url = ""
    related: tuple[str, ...] = ()

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.select_related(*self.related) if self.related else qs

    def get(self, request, *args, **kwargs):
        return xlsx_response(
            request,
            self.get_queryset(),
            self.columns,
            sheet=str(self.sheet),
            filename=self.filename,
            back=back_to(reverse(self.list_url), request),
        )


RATING_COLUMNS = [
    Column(gettext_lazy("编号"), lambda r: r.pk, 8),
    Column(gettext_lazy("评价时间"), lambda r: r.rated_at, 17),
    Column(gettext_lazy("来源"), lambda r: r.get_source_display(), 10),
    Column(gettext_lazy("评价"), lambda r: r.get_verdict_display(), 10),
    Column(gettext_lazy("不满意方面"), lambda r: r.get_aspect_display(), 10),
    Column(gettext_lazy("评价内容"), lambda r: r.text, 40, free_text=True),
    Column(gettext_lazy("原因回复"), lambda r: r.aspect_text, 30, free_text=True),
    Column(gettext_lazy("被评价单位"), lambda r: r.unit.name if r.unit_id else "", 18),
    Column(gettext_lazy("业务类型"), lambda r: str(r.business_type) if r.business_type_id else "", 14),
    Column(gettext_lazy("评价点"), lambda r: str(r.rating_point) if r.rating_point_id else "", 16),
    Column(gettext_lazy("联系电话"), _rating_phone, 14),
]


class RatingExportView(_ExportMixin, RatingListView):
    columns = RATING_COLUMNS
    sheet = gettext_lazy("评价")
    filename = "ratings"
    list_url = "surveys:rating_list"
    related = ("sms",)


RECORD_COLUMNS = [
    Column(gettext_lazy("业务编号"), lambda r: r.external_id, 18),
    Column(gettext_lazy("办理时间"), lambda r: r.served_at, 17),
    Column(gettext_lazy("业务类型"), lambda r: str(r.business_type) if r.business_type_id else "", 14),
    Column(gettext_lazy("办理单位"), lambda r: r.unit.name, 18),
    Column(gettext_lazy("警号"), lambda r: r.officer_code, 10),
    Column(gettext_lazy("群众电话"), lambda r: _phone(r.citizen_phone), 14),
    Column(gettext_lazy("来源"), lambda r: r.source, 10),
    Column(gettext_lazy("回访状态"), lambda r: r.get_state_display(), 10),
    Column(gettext_lazy("不发送原因"), lambda r: r.get_skip_reason_display(), 16),
]


class RecordExportView(_ExportMixin, RecordListView):
    columns = RECORD_COLUMNS
    sheet = gettext_lazy("服务记录")
    filename = "service-records"
    list_url = "surveys:record_list"


CALLBACK_COLUMNS = [
    Column(gettext_lazy("编号"), lambda c: c.pk, 8),
    Column(gettext_lazy("状态"), lambda c: c.get_status_display(), 10),
    Column(gettext_lazy("回访时限"), lambda c: c.due_at, 17),
    Column(gettext_lazy("被评价单位"), lambda c: c.unit.name if c.unit_id else "", 18),
    Column(gettext_lazy("业务类型"), lambda c: str(c.rating.business_type) if c.rating.business_type_id else "", 14),
    Column(gettext_lazy("群众评价"), lambda c: c.rating.get_verdict_display(), 10),
    Column(gettext_lazy("评价内容"), lambda c: c.rating.text, 30, free_text=True),
    Column(gettext_lazy("联系电话"), lambda c: _rating_phone(c.rating), 14),
    Column(gettext_lazy("拨打次数"), lambda c: c.attempts, 8),
    Column(gettext_lazy("不满意原因"), lambda c: c.reason, 30, free_text=True),
    Column(gettext_lazy("诉求合理"), lambda c: c.is_reasonable, 8),
    Column(gettext_lazy("回访结论"), lambda c: c.get_verdict_display(), 12),
    Column(gettext_lazy("回访人"), lambda c: str(c.assigned_to) if c.assigned_to_id else "", 10),
    Column(gettext_lazy("结案时间"), lambda c: c.closed_at, 17),
]


class CallbackExportView(_ExportMixin, CallbackDeskView):
    columns = CALLBACK_COLUMNS
    sheet = gettext_lazy("人工回访")
    filename = "callbacks"
    list_url = "surveys:callback_desk"
    related = ("rating__sms",)


class PrintCallbackView(RoleRequiredMixin, View):
    """回访记录: a callback on an A4 sheet — the rating, every call, the verdict and the notes.
    The same audience as the callback's page; another unit's callback is a 404."""

    allowed_roles = CENTER_AND_SUPERVISORS

    def get(self, request, pk: int):
        callback = get_object_or_404(
            Callback.objects.visible_to(request.user).select_related(
                "unit", "rating", "rating__sms", "rating__business_type", "assigned_to", "closed_by"
            ),
            pk=pk,
        )
        calls = list(callback.calls.select_related("actor").order_by("created_at", "id"))
        for call in calls:
            call.masked_note = mask_text(call.note)
        events = list(callback.events.select_related("actor").order_by("created_at", "id"))
        for event in events:
            event.masked_note = mask_text(event.note)
        context = {
            "callback": callback,
            "issuer": issuing_unit(),
            "masked_phone": _rating_phone(callback.rating),
            "rating_text": mask_text(callback.rating.text),
            "reason": mask_text(callback.reason),
            "calls": calls,
            "events": events,
            "work_order": _work_order(callback),
            "title": _("回访记录"),
        }
        return render(request, "surveys/print_callback.html", context)
