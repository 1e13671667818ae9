"""Alerts in the API: read within the user's units; each move a POST action calling the same
service as the staff page (seen, handled with a note, listed for supervision)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from units.visibility import VisibleViewSetMixin

from .. import permissions, services
from ..filters import AlertFilter
from ..models import Alert, AlertEvent
from . import serializers as s

_404 = OpenApiResponse(description=_("预警不存在或无权查看"))
_409 = OpenApiResponse(description=_("预警当前状态不允许此操作"))


@extend_schema_view(
    list=extend_schema(summary=_("预警列表（按预警时间倒序）")),
    retrieve=extend_schema(
        summary=_("预警详情（含证据诉求和处置记录）"), responses={200: s.AlertDetailSerializer, 404: _404}
    ),
)
class AlertViewSet(VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """预警: center staff, supervisors and administrators see all; a unit's leader those of his unit
    and below; handlers none (403)."""

    queryset = Alert.objects.select_related("unit", "category")
    filterset_class = AlertFilter
    cursor_ordering = ("-raised_at", "-id")
    allowed_roles = permissions.READERS

    def get_serializer_class(self):
        return s.AlertSerializer if self.action == "list" else s.AlertDetailSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "list":
            return qs
        return qs.prefetch_related(Prefetch("events", queryset=AlertEvent.objects.select_related("actor")))

    def _moved(self, alert: Alert, call) -> Response:
        call()  # a refused move is answered 409 by the API's one exception handler
        fresh = self.get_queryset().get(pk=alert.pk)
        return Response(s.AlertDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("标记已查看"), request=None, responses={200: s.AlertDetailSerializer, 404: _404, 409: _409}
    )
    @action(detail=True, methods=["post"])
    def seen(self, request, pk=None):
        alert = self.get_object()
        return self._moved(alert, lambda: services.mark_seen(alert, actor=request.user))

    @extend_schema(
        summary=_("处置完毕（填写处置说明）"),
        request=s.HandleSerializer,
        responses={200: s.AlertDetailSerializer, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        alert = self.get_object()
        payload = s.HandleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        note = payload.validated_data["note"]
        return self._moved(alert, lambda: services.handle_alert(alert, actor=request.user, note=note))

    @extend_schema(
        summary=_("挂牌督办（列入督办的工单随之挂牌）"),
        request=None,
        responses={200: s.AlertDetailSerializer, 404: _404},
    )
    @action(detail=True, methods=["post"], url_path="list-for-supervision")
    def list_for_supervision(self, request, pk=None):
        alert = self.get_object()
        return self._moved(alert, lambda: services.list_for_supervision(alert, actor=request.user))
