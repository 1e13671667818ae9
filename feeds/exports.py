"""XLSX exports of the feeds' staff lists: the import batches and the results sent back to
12345/12389 (结果回传). Each exports what its list shows — the same queryset and filters, the whole
result rather than one page — through ``units.exports``; phones are masked."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intake.phones import mask
from units.exports import Column, back_to, xlsx_response

from .filters import ResultDeliveryFilter
from .selectors import import_batches, result_deliveries
from .views import FeedStaffView

BATCH_COLUMNS = [
    Column(gettext_lazy("批次号"), lambda b: b.pk, 8),
    Column(gettext_lazy("上传时间"), lambda b: b.created_at, 17),
    Column(gettext_lazy("数据类型"), lambda b: b.get_kind_display(), 10),
    Column(gettext_lazy("来源"), lambda b: b.source.name if b.source_id else "", 14),
    Column(gettext_lazy("文件名"), lambda b: b.filename, 30, free_text=True),
    Column(gettext_lazy("状态"), lambda b: b.get_status_display(), 10),
    Column(gettext_lazy("总行数"), lambda b: b.total_rows, 8),
    Column(gettext_lazy("新增"), lambda b: b.created, 8),
    Column(gettext_lazy("重复"), lambda b: b.duplicates, 8),
    Column(gettext_lazy("拒绝"), lambda b: b.rejected, 8),
    Column(gettext_lazy("上传人"), lambda b: b.uploaded_by.display_name if b.uploaded_by_id else "", 10),
    Column(gettext_lazy("完成时间"), lambda b: b.finished_at, 17),
    Column(gettext_lazy("错误"), lambda b: b.error, 40, free_text=True),
]

DELIVERY_COLUMNS = [
    Column(gettext_lazy("回传号"), lambda d: d.pk, 8),
    Column(gettext_lazy("创建时间"), lambda d: d.created_at, 17),
    Column(gettext_lazy("来源"), lambda d: d.source.name, 14),
    Column(gettext_lazy("来源编号"), lambda d: d.appeal.external_id, 22),
    Column(gettext_lazy("查询码"), lambda d: d.appeal.tracking_code, 10),
    Column(gettext_lazy("联系电话"), lambda d: mask(d.appeal.citizen_phone) if d.appeal.citizen_phone else "", 14),
    Column(gettext_lazy("序号"), lambda d: d.sequence, 6),
    Column(gettext_lazy("状态"), lambda d: d.get_status_display(), 10),
    Column(gettext_lazy("尝试次数"), lambda d: d.attempts, 8),
    Column(gettext_lazy("下次尝试"), lambda d: d.next_attempt_at if d.status == "pending" else None, 17),
    Column(gettext_lazy("送达时间"), lambda d: d.delivered_at, 17),
    Column(gettext_lazy("最近错误"), lambda d: d.last_error, 40, free_text=True),
]


class ImportBatchExportView(FeedStaffView):
    """导出: every import batch, newest first (the list shows the latest 100)."""

    def get(self, request):
        return xlsx_response(
            request,
            import_batches(request.user).order_by("-created_at", "-id"),
            BATCH_COLUMNS,
            sheet=_("导入批次"),
            filename="import-batches",
            back=reverse("feeds:imports"),
        )


class DeliveryExportView(FeedStaffView):
    """导出: the results sent back to the platforms under the list's filters, newest first."""

    def get(self, request):
        qs = result_deliveries(request.user).order_by("-id")
        filterset = ResultDeliveryFilter(request.GET, queryset=qs)
        return xlsx_response(
            request,
            filterset.qs if filterset.is_valid() else qs.none(),
            DELIVERY_COLUMNS,
            sheet=_("结果回传"),
            filename="result-deliveries",
            back=back_to(reverse("feeds:deliveries"), request),
        )
