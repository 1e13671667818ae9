"""Metrics, rankings and bulletins in the API: reads with the visibility rule; publishing a
month's ranking, computing a draft and generating a bulletin are POST actions calling the services."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from units.visibility import HasRole, VisibleViewSetMixin

from .. import permissions, services
from ..choices import PeriodKind
from ..filters import BulletinFilter, RankingFilter
from ..metrics import basic_weight
from ..models import Bulletin, Ranking
from ..periods import Period, presets
from ..selectors import dashboard_scope, figures, metric_row_dict
from . import serializers as s


def _errors(codes: tuple[int, ...]) -> dict:
    text = {
        400: "输入有误",
        403: "无权执行该操作",
        404: "不存在或不可见",
        409: "当前状态不允许该操作（已发布的月份数据冻结；未结束的月份不能发布）",
    }
    # Descriptions only: every error body is the API's one ``Error`` (units.api.schema).
    return {c: OpenApiResponse(description=text[c]) for c in codes}


class MetricsViewSet(viewsets.ViewSet):
    """SPEC §9 metrics for a period: the scope's totals and one line per unit below it.

    City-wide roles see the city (its departments and district bureaus) and drill down with
    ``unit``; a unit leader sees his own unit and the units below it; ``unit`` outside what the
    user may see answers 404.
    """

    permission_classes = [HasRole]
    allowed_roles = permissions.READ_ROLES
    schema_single_object = True  # "list" answers one object (units.api.schema)

    @extend_schema(
        parameters=[s.MetricsQuerySerializer],
        responses={200: s.MetricsSerializer, **_errors((400, 403, 404))},
        summary="统计指标",
    )
    def list(self, request):
        query = s.MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        if q.get("period") == PeriodKind.CUSTOM:
            period = Period(q["start"], q["end"] + dt.timedelta(days=1))
        else:
            period = presets(timezone.localdate())[q.get("period") or PeriodKind.MONTH]
        try:
            scope = dashboard_scope(request.user, q.get("unit"))
        except Http404 as exc:
            raise exceptions.NotFound() from exc
        totals, rows = figures(period, scope)
        return Response(
            {
                "period": {"first": period.first, "until": period.until},
                "basic_weight": basic_weight(),
                "unit": scope.root.pk if scope.root else None,
                "totals": totals.as_dict(),
                "units": [metric_row_dict(u, m) for u, m in rows],
            }
        )


class RankingViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Monthly red/black lists per tier. Leaders read published lists; city-wide roles also drafts."""

    queryset = Ranking.objects.prefetch_related("entries__unit")
    allowed_roles = permissions.READ_ROLES
    filterset_class = RankingFilter
    cursor_ordering = ("-month", "-id")

    def get_serializer_class(self):
        return s.RankingSerializer if self.action == "list" else s.RankingDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related(None) if self.action == "list" else qs

    @extend_schema(
        request=None,
        responses={200: s.RankingDetailSerializer, **_errors((403, 404, 409))},
        summary="发布红黑榜（冻结）",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        ranking = self.get_object()
        ranking = services.publish_ranking(ranking, actor=request.user)
        ranking = self.get_queryset().get(pk=ranking.pk)
        return Response(s.RankingDetailSerializer(ranking).data)

    @extend_schema(
        request=None, responses={200: s.RankingDetailSerializer, **_errors((403, 404, 409))}, summary="重新计算草稿"
    )
    @action(detail=True, methods=["post"])
    def recompute(self, request, pk=None):
        ranking = self.get_object()
        services.compute_ranking(month=ranking.month, tier=ranking.tier, actor=request.user)
        return Response(s.RankingDetailSerializer(self.get_queryset().get(pk=ranking.pk)).data)

    @extend_schema(
        request=s.ComputeRankingSerializer,
        responses={200: s.RankingDetailSerializer, **_errors((400, 403, 409))},
        summary="计算某月某层级的红黑榜草稿",
    )
    @action(detail=False, methods=["post"])
    def compute(self, request):
        payload = s.ComputeRankingSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ranking = services.compute_ranking(
            month=payload.validated_data["month"], tier=payload.validated_data["tier"], actor=request.user
        )
        return Response(s.RankingDetailSerializer(self.get_queryset().get(pk=ranking.pk)).data)


class BulletinViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Generated bulletins (daily, weekly, monthly), newest period first."""

    queryset = Bulletin.objects.all()
    allowed_roles = permissions.READ_ROLES
    filterset_class = BulletinFilter
    cursor_ordering = ("-period_start", "-id")

    def get_serializer_class(self):
        return s.BulletinSerializer if self.action == "list" else s.BulletinDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.defer("content") if self.action == "list" else qs

    @extend_schema(
        request=s.GenerateBulletinSerializer,
        responses={200: s.BulletinDetailSerializer, 201: s.BulletinDetailSerializer, **_errors((400, 403))},
        summary="生成通报（同一周期只生成一次）",
    )
    @action(detail=False, methods=["post"])
    def generate(self, request):
        payload = s.GenerateBulletinSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        bulletin, created = services.generate_bulletin(
            kind=payload.validated_data["kind"], on=payload.validated_data["on"], actor=request.user
        )
        return Response(
            s.BulletinDetailSerializer(bulletin).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
