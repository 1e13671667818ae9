"""Staff pages: the dashboard, the red/black lists and the bulletins.

Views are thin: permission, form, selector or service, message, redirect.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Prefetch
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from units.errors import Refused
from units.navigation import panels_for
from units.refusals import show_refusal
from units.visibility import RoleRequiredMixin, VisibleMixin, unit_scope

from . import exports, permissions, selectors, services
from .choices import METRIC_KEYS, METRIC_LABELS, BulletinKind, ListFlag
from .forms import UNIT_SORTS, ComputeRankingForm, GenerateBulletinForm, PeriodForm
from .models import Bulletin, Ranking, RankingEntry
from .pdf import browser_path
from .periods import previous_month


class DashboardView(RoleRequiredMixin, TemplateView):
    """统计分析: KPI tiles, charts and the unit table with drill-down, for the chosen period."""

    template_name = "analytics/dashboard.html"
    allowed_roles = permissions.READ_ROLES

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = PeriodForm(self.request.GET or None)
        period = form.get_period()
        valid = form.is_bound and form.is_valid()
        unit_id = form.cleaned_data.get("unit") if valid else None
        sort = form.cleaned_data.get("sort") or "" if valid else ""
        desc = bool(form.cleaned_data.get("desc")) if valid else False
        data = selectors.dashboard(
            self.request.user,
            period,
            unit_id=unit_id,
            sort=sort,
            desc=desc,
            page=(form.cleaned_data.get("page") if valid else None) or 1,
        )
        ctx.update(
            form=form,
            period=period,
            # Links keep the period and the table's order: a drill-down starts at its first page,
            # a sort at the first page, a page turn keeps everything else.
            query=_query(self.request.GET, "unit", "page"),
            page_query=_query(self.request.GET, "page"),
            sort_query=_query(self.request.GET, "sort", "desc", "page"),
            sort=sort,
            desc=desc,
            unit_columns=[(key, label) for key, label in UNIT_SORTS if key],
            metric_keys=METRIC_KEYS,
            metric_labels=METRIC_LABELS,
            **data,
        )
        root = data["scope"].root
        own = unit_scope(self.request.user)  # None: the whole city
        # In a single city its 市局 is "全市"; in a province every city is a step of the trail.
        trail = [u for u in (root.ancestors + [root]) if data["scope"].province or u.tier != "city"] if root else []
        # Only units the user may open: a leader's trail starts at his own unit.
        ctx["breadcrumbs"] = [u for u in trail if own is None or u.is_under(own)]
        ctx["sees_city"] = own is None
        # Panels other apps add for the period (预警, 退单率): DASHBOARD_PANELS in their nav.py.
        ctx["extra_panels"] = [
            {"template": p.template, "context": p.context(self.request, period) if p.context else {}}
            for p in panels_for("DASHBOARD_PANELS", self.request.user)
        ]
        return ctx


def _query(params, *drop: str) -> str:
    """The request's query string without the named parameters."""
    kept = params.copy()
    for name in drop:
        kept.pop(name, None)
    return kept.urlencode()


class RankingListView(RoleRequiredMixin, ListView):
    """红黑榜 of a month (default: last month), one ranking per tier; drafts for city-wide roles only."""

    template_name = "analytics/rankings.html"
    context_object_name = "rankings"
    allowed_roles = permissions.READ_ROLES

    def get_queryset(self):
        raw = self.request.GET.get("month", "")
        try:
            self.month = dt.datetime.strptime(raw, "%Y-%m").date()
        except ValueError:
            self.month = previous_month(timezone.localdate()).first
        return (
            Ranking.objects.visible_to(self.request.user)
            .filter(month=self.month)
            # The red and black lists only (a tier of a province has thousands of entries; the
            # full ranking is its own, paged, page).
            .prefetch_related(
                Prefetch(
                    "entries",
                    queryset=RankingEntry.objects.exclude(flag=ListFlag.NONE).select_related("unit"),
                    to_attr="listed",
                )
            )
            .order_by("tier")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        months = Ranking.objects.visible_to(user).order_by("-month").values_list("month", flat=True).distinct()[:24]
        ctx.update(
            month=self.month,
            months=sorted(set(months) | {self.month}, reverse=True),
            can_compute=permissions.may_compute(user),
            can_publish=permissions.may_publish(user),
            tiers=services.RANKED_TIERS,
            lists=[_lists(r) for r in ctx["rankings"]],
        )
        return ctx


def _lists(ranking: Ranking, entries=None) -> dict:
    """The red list best first and the black list worst last, from the flagged entries."""
    listed = ranking.listed if entries is None else entries
    listed = sorted(listed, key=lambda e: (e.rank is None, e.rank or 0, e.unit.code))
    return {
        "ranking": ranking,
        "red": [e for e in listed if e.flag == ListFlag.RED],
        "black": [e for e in listed if e.flag == ListFlag.BLACK],
    }


# The full ranking lists this many units a page (a tier of a province has thousands).
RANKING_PAGE_SIZE = 100


class RankingDetailView(VisibleMixin, DetailView):
    template_name = "analytics/ranking_detail.html"
    allowed_roles = permissions.READ_ROLES
    context_object_name = "ranking"
    queryset = Ranking.objects.prefetch_related("events__actor")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        entries = self.object.entries.select_related("unit")
        # Ranked units by place, then the units not ranked (样本不足), a page at a time.
        ordered = entries.order_by(F("rank").asc(nulls_last=True), "unit__code")
        page = Paginator(ordered, RANKING_PAGE_SIZE).get_page(self.request.GET.get("page"))
        ctx.update(
            weights=[(METRIC_LABELS[k], self.object.weights[k]) for k in METRIC_LABELS if k in self.object.weights],
            lists=_lists(self.object, entries.exclude(flag=ListFlag.NONE)),
            entries_page=page,
            metric_keys=METRIC_KEYS,
            metric_labels=METRIC_LABELS,
            can_compute=permissions.may_compute(user) and not self.object.is_published,
            can_publish=permissions.may_publish(user) and not self.object.is_published and self.object.month_is_over,
        )
        return ctx


class ComputeRankingView(RoleRequiredMixin, View):
    allowed_roles = permissions.COMPUTE_ROLES

    def post(self, request):
        form = ComputeRankingForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请选择月份和层级。"))
            return redirect("analytics:rankings")
        month, tier = form.cleaned_data["month"], form.cleaned_data["tier"]
        try:
            ranking = services.compute_ranking(month=month, tier=tier, actor=request.user)
        except (Refused, ValidationError) as exc:
            show_refusal(request, exc)
        else:
            messages.success(request, _("已计算 %(r)s。") % {"r": ranking})
        return redirect(f"{reverse('analytics:rankings')}?month={month:%Y-%m}")


class PublishRankingView(RoleRequiredMixin, View):
    allowed_roles = permissions.PUBLISH_ROLES

    def post(self, request, pk: int):
        ranking = get_object_or_404(Ranking.objects.visible_to(request.user), pk=pk)
        try:
            ranking = services.publish_ranking(ranking, actor=request.user)
        except Refused as exc:
            show_refusal(request, exc)
        else:
            messages.success(request, _("%(r)s 已发布，数据已冻结。") % {"r": ranking})
        return redirect(f"{reverse('analytics:rankings')}?month={ranking.month:%Y-%m}")


class BulletinListView(VisibleMixin, ListView):
    """通报: the kept daily, weekly and monthly bulletins, newest first, filterable by kind."""

    template_name = "analytics/bulletins.html"
    context_object_name = "bulletins"
    allowed_roles = permissions.READ_ROLES
    model = Bulletin
    paginate_by = 30

    def get_queryset(self):
        qs = super().get_queryset().defer("content")
        self.kind = self.request.GET.get("kind", "")
        if self.kind in BulletinKind.values:
            qs = qs.filter(kind=self.kind)
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            kind=self.kind,
            kinds=BulletinKind.choices,
            can_generate=permissions.may_compute(self.request.user),
            generate_form=GenerateBulletinForm(
                initial={"kind": BulletinKind.DAILY, "on": timezone.localdate() - dt.timedelta(days=1)}
            ),
        )
        return ctx


class GenerateBulletinView(RoleRequiredMixin, View):
    allowed_roles = permissions.COMPUTE_ROLES

    def post(self, request):
        form = GenerateBulletinForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请选择通报类型和日期。"))
            return redirect("analytics:bulletins")
        try:
            bulletin, created = services.generate_bulletin(
                kind=form.cleaned_data["kind"], on=form.cleaned_data["on"], actor=request.user
            )
        except ValidationError as exc:
            show_refusal(request, exc)
            return redirect("analytics:bulletins")
        if created:
            messages.success(request, _("已生成《%(t)s》。") % {"t": bulletin.title})
        else:
            messages.info(request, _("《%(t)s》此前已生成，未重复生成。") % {"t": bulletin.title})
        return redirect("analytics:bulletin", pk=bulletin.pk)


class BulletinDetailView(VisibleMixin, DetailView):
    template_name = "analytics/bulletin_detail.html"
    allowed_roles = permissions.READ_ROLES
    model = Bulletin
    context_object_name = "bulletin"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            metric_keys=METRIC_KEYS,
            metric_labels=METRIC_LABELS,
            charts=selectors.bulletin_charts(self.object),
            pdf_ready=bool(self.object.pdf),
        )
        return ctx


class BulletinPrintView(BulletinDetailView):
    """A print-friendly page (print CSS): the browser's "print to PDF" gives the PDF with CJK fonts."""

    template_name = "analytics/bulletin_print.html"


class BulletinExcelView(VisibleMixin, DetailView):
    allowed_roles = permissions.READ_ROLES
    model = Bulletin

    def get(self, request, *args, **kwargs):
        bulletin = self.get_object()
        response = HttpResponse(
            exports.bulletin_xlsx(bulletin),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        filename = f"bulletin-{bulletin.kind}-{bulletin.period_start:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class BulletinPdfView(VisibleMixin, DetailView):
    """The printed PDF when it is ready; otherwise it is queued and the print view offered."""

    allowed_roles = permissions.READ_ROLES
    model = Bulletin

    def get(self, request, *args, **kwargs):
        bulletin = self.get_object()
        if bulletin.pdf:
            filename = f"bulletin-{bulletin.kind}-{bulletin.period_start:%Y%m%d}.pdf"
            return FileResponse(bulletin.pdf.open("rb"), as_attachment=True, filename=filename)
        if services.request_bulletin_pdf(bulletin):
            messages.info(request, _("PDF 正在生成，请稍后再下载；也可以先使用打印版另存为 PDF。"))
            return redirect("analytics:bulletin", pk=bulletin.pk)
        if browser_path() is None:
            messages.warning(request, _("本系统未配置 PDF 打印，请使用打印版另存为 PDF。"))
        else:
            messages.warning(request, _("PDF 生成失败，请使用打印版另存为 PDF。"))
        return redirect("analytics:bulletin_print", pk=bulletin.pk)
