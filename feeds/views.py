"""Staff pages: imports with their row reports, and results sent back to the platforms."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import APIException

from units.logging import mask
from units.parsers import loads_limited
from units.visibility import RoleRequiredMixin

from . import permissions, signing
from .choices import BatchStatus, FeedKind
from .filters import ResultDeliveryFilter
from .forms import AppealImportForm
from .imports import APPEAL_FIELD_LABELS
from .models import FeedSource
from .selectors import batch_errors, delivery_counts, import_batches, result_deliveries
from .services import current_progress, retry_delivery, start_import

FEED_ROLES = permissions.FEED_ROLES
REPORT_ROWS_ON_PAGE = 1000


class FeedStaffView(RoleRequiredMixin, View):
    allowed_roles = FEED_ROLES


class ImportListView(FeedStaffView):
    """Upload a file for a source; the latest batches with their counts."""

    def get(self, request, form=None):
        batches = import_batches(request.user)[:100]
        return render(request, "feeds/import_list.html", {"form": form or AppealImportForm(), "batches": batches})

    def post(self, request):
        form = AppealImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            batch = start_import(
                kind=FeedKind.APPEALS,
                source=form.cleaned_data["source"],
                upload=request.FILES["file"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
            return self.get(request, form=form)
        if batch.earlier == BatchStatus.DONE:
            messages.info(request, _("该文件已导入过，未重复导入。"))
        elif batch.earlier in (BatchStatus.QUEUED, BatchStatus.RUNNING):
            messages.info(request, _("该文件的导入尚未完成，继续该批次。"))
        else:
            messages.success(request, _("文件已上传，正在导入。"))
        return redirect("feeds:batch", pk=batch.pk)


def _safe_cell(value: str) -> str:
    """Keep spreadsheet programs from running cell text as a formula."""
    text = str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def masked_error(error):
    """A rejected row as the report shows it: phones and ID-card numbers a citizen wrote anywhere
    in the row (the text, the address…) masked by the rule the logs use. The phone column is
    already kept masked; the rest of the row is kept as the file had it."""
    error.reason = mask(error.reason or "")
    error.raw = {k: mask(str(v)) if v is not None else v for k, v in (error.raw or {}).items()}
    return error


class BatchDetailView(FeedStaffView):
    """The report of one batch: counts, progress while it runs, every rejected row."""

    def get(self, request, pk: int):
        batch = get_object_or_404(import_batches(request.user), pk=pk)
        errors = [masked_error(e) for e in batch_errors(batch)[:REPORT_ROWS_ON_PAGE]] if not batch.is_open else []
        context = {
            "batch": batch,
            "progress": current_progress(batch),
            "errors": errors,
            "errors_truncated": batch.rejected and len(errors) >= REPORT_ROWS_ON_PAGE,
        }
        if request.htmx and request.GET.get("part") == "status":
            response = render(request, "feeds/_batch_status.html", context)
            if not batch.is_open:
                # The import has finished: reload the whole page so the rejected rows appear.
                response["HX-Refresh"] = "true"
            return response
        return render(request, "feeds/batch_detail.html", context)


class BatchErrorsCsvView(FeedStaffView):
    """Every rejected row of a batch as CSV (UTF-8 with BOM so Excel reads the Chinese)."""

    def get(self, request, pk: int):
        batch = get_object_or_404(import_batches(request.user), pk=pk)

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def rows():
            yield "\ufeff"
            yield writer.writerow([_("行号"), _("字段"), _("原因"), _("原始数据")])
            for error in batch_errors(batch).iterator(chunk_size=2000):
                error = masked_error(error)
                raw = "；".join(f"{k}={v}" for k, v in (error.raw or {}).items())
                yield writer.writerow(
                    [error.row_number, _safe_cell(error.field), _safe_cell(error.reason), _safe_cell(raw)]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
        return response


class ImportTemplateView(FeedStaffView):
    """An empty CSV with the expected Chinese headers."""

    def get(self, request):
        header = ",".join(APPEAL_FIELD_LABELS.values())
        example = "12345-20260520-0001,2026-05-20 14:30,张三,13800001234,小区门口夜间噪音扰民,临江市江北区滨江路1号,噪音扰民,否"
        response = HttpResponse("\ufeff" + header + "\r\n" + example + "\r\n", content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="appeals-template.csv"'
        return response


class DeliveryListView(FeedStaffView):
    """Results sent back to the platforms, newest first, filterable; keyset paging by id."""

    page_size = 50

    def get(self, request):
        qs = result_deliveries(request.user).prefetch_related("attempt_rows").order_by("-id")
        filterset = ResultDeliveryFilter(request.GET, queryset=qs)
        items = filterset.qs
        before = request.GET.get("before")
        if before and before.isdigit():
            items = items.filter(pk__lt=int(before))
        page = list(items[: self.page_size + 1])
        more = len(page) > self.page_size
        page = page[: self.page_size]
        query = request.GET.copy()
        query.pop("before", None)
        return render(
            request,
            "feeds/delivery_list.html",
            {
                "filter": filterset,
                "deliveries": page,
                "next_before": page[-1].pk if more and page else None,
                "query": query.urlencode(),
                "counts": delivery_counts(),
            },
        )


class DeliveryDetailView(FeedStaffView):
    def get(self, request, pk: int):
        delivery = get_object_or_404(result_deliveries(request.user).prefetch_related("attempt_rows"), pk=pk)
        return render(
            request,
            "feeds/delivery_detail.html",
            {"delivery": delivery, "can_retry": permissions.may_retry_delivery(request.user, delivery)},
        )


@method_decorator(csrf_exempt, name="dispatch")
class DemoPlatformView(View):
    """A stand-in for the 12345/12389 platform in demos: checks the signature, answers 200.

    Only when FEED_DEMO_PLATFORM is on (by default with DEBUG); a real deployment points
    ``result_url`` at the real platform.
    """

    def post(self, request):
        if not settings.FEED_DEMO_PLATFORM:
            raise Http404
        try:
            code = loads_limited(request.body).get("source", "")
        except (APIException, AttributeError):
            return JsonResponse({"code": 400, "msg": "请求体不是 JSON"}, status=400)
        source = FeedSource.objects.filter(code=code).first()
        timestamp = request.headers.get(signing.TIMESTAMP_HEADER)
        if source is None or not signing.verify(
            source.result_secret, request.body, request.headers.get(signing.SIGNATURE_HEADER, ""), timestamp=timestamp
        ):
            return JsonResponse({"code": 401, "msg": "签名不正确"}, status=401)
        return JsonResponse(
            {"code": 0, "msg": "已接收", "delivery_id": request.headers.get(signing.DELIVERY_ID_HEADER)}
        )


class DeliveryRetryView(FeedStaffView):
    def post(self, request, pk: int):
        delivery = get_object_or_404(result_deliveries(request.user), pk=pk)
        if not permissions.may_retry_delivery(request.user, delivery):
            messages.error(request, _("该回传不是失败或暂停状态，未重新发送。"))
            return redirect("feeds:delivery", pk=pk)
        retry_delivery(delivery, actor=request.user)
        messages.success(request, _("已重新排队发送。"))
        return redirect("feeds:delivery", pk=pk)
