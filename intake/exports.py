"""The triage desk's XLSX export: the desk's own filtered queue, whole, in desk order.

The queryset comes from ``desk_params`` and ``desk_queryset`` — the builders the desk itself and
its "研判并下一条" queue use — so visibility (``visible_to(user)``) and every filter are identical
to what the list shows; only paging is left out.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from units.exports import Column, back_to, xlsx_response
from units.visibility import RoleRequiredMixin

from .models import Appeal
from .phones import mask
from .selectors import DESK_ORDER
from .views import DESK_ROLES, desk_params, desk_queryset


def _category(appeal: Appeal) -> str:
    category = appeal.category
    if category is None:
        return ""
    return f"{category.parent.name} / {category.name}" if category.parent_id else category.name


APPEAL_COLUMNS = [
    Column(gettext_lazy("编号"), lambda a: a.pk, 8),
    Column(gettext_lazy("查询码"), lambda a: a.tracking_code, 12),
    Column(gettext_lazy("受理时间"), lambda a: a.received_at, 17),
    Column(gettext_lazy("渠道"), lambda a: a.get_channel_display(), 12),
    Column(gettext_lazy("来源编号"), lambda a: a.external_id, 16),
    Column(gettext_lazy("诉求类型"), lambda a: a.get_kind_display(), 10),
    Column(gettext_lazy("分类"), _category, 20),
    Column(gettext_lazy("分级"), lambda a: a.get_severity_display(), 8),
    Column(gettext_lazy("状态"), lambda a: a.get_status_display(), 10),
    Column(gettext_lazy("标题"), lambda a: a.title, 24, free_text=True),
    Column(gettext_lazy("诉求内容"), lambda a: a.content, 60, free_text=True),
    Column(gettext_lazy("地址"), lambda a: a.address, 24, free_text=True),
    Column(gettext_lazy("诉求人"), lambda a: a.citizen_name, 10, free_text=True),
    Column(gettext_lazy("联系电话"), lambda a: mask(a.citizen_phone) if a.citizen_phone else "", 14),
    Column(gettext_lazy("承办单位"), lambda a: a.unit.name if a.unit_id else "", 18),
    Column(gettext_lazy("重复诉求"), lambda a: a.is_repeat, 8),
    Column(gettext_lazy("涉企"), lambda a: a.is_enterprise, 6),
    Column(gettext_lazy("办结时间"), lambda a: a.closed_at, 17),
]


class DeskExportView(RoleRequiredMixin, View):
    """导出: the desk's current queue (filters and tab of the query string) as XLSX."""

    allowed_roles = DESK_ROLES

    def get(self, request, *args, **kwargs):
        params, _show_all = desk_params(request.GET)
        queryset = desk_queryset(request, params).order_by(*DESK_ORDER)
        return xlsx_response(
            request,
            queryset,
            APPEAL_COLUMNS,
            sheet=_("诉求"),
            filename="appeals",
            back=back_to(reverse("intake:desk"), request),
        )
