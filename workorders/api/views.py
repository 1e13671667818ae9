"""Work orders in the API: read with the visibility rule, each move a POST action calling the service."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from intake.api.serializers import AppealSerializer
from intake.api.views import AppealViewSet, TriageRole
from units.parsers import LimitedJSONParser
from units.visibility import VisibleViewSetMixin

from .. import selectors, services
from ..filters import WorkOrderFilter
from ..models import WorkOrder, WorkOrderEvent
from . import serializers as s

# Descriptions only: every error body is the API's one ``Error`` (units.api.schema).
ERRORS = {
    400: OpenApiResponse(description="输入有误"),
    403: OpenApiResponse(description="无权执行该操作"),
    404: OpenApiResponse(description="工单不存在或不可见"),
    409: OpenApiResponse(description="当前状态不允许该操作"),
}


def _schema(request_serializer, summary: str):
    return extend_schema(
        request=request_serializer, responses={200: s.WorkOrderDetailSerializer, **ERRORS}, summary=summary
    )


def _with_detail(qs):
    return qs.prefetch_related(
        "assisting_units",
        Prefetch("events", queryset=WorkOrderEvent.objects.select_related("actor")),
        "consultations__departments",
    )


class WorkOrderViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Work orders the user may see (lead or assisting unit in his subtree; all for the center)."""

    queryset = WorkOrder.objects.select_related("unit", "appeal").prefetch_related("assisting_units")
    filterset_class = WorkOrderFilter
    parser_classes = [LimitedJSONParser, MultiPartParser, FormParser]  # JSON size and depth limits

    def get_serializer_class(self):
        if self.action == "retrieve" or self.action in MOVE_ACTIONS:
            return s.WorkOrderDetailSerializer
        return s.WorkOrderSerializer

    def _do(self, request, payload_serializer, call):
        order = self.get_object()
        data = {}
        if payload_serializer is not None:
            ser = payload_serializer(data=request.data)
            ser.is_valid(raise_exception=True)
            data = ser.validated_data
        call(order, request.user, data)  # a refusal is answered by the API's one exception handler
        # Read back with the detail prefetches (not through visibility: a hand-back may have moved
        # the order out of the actor's units, and he is owed the result of his own move).
        fresh = _with_detail(WorkOrder.objects.select_related("unit", "appeal")).get(pk=order.pk)
        return Response(s.WorkOrderDetailSerializer(fresh, context={"request": request}).data)

    @property
    def cursor_ordering(self):
        return selectors.ENTRY_ORDERING if self._listed_from_entries() else ("-dispatched_at", "-id")

    def _listed_from_entries(self) -> bool:
        request = getattr(self, "request", None)  # none while the schema is generated
        user = getattr(request, "user", None)
        return getattr(self, "action", None) == "list" and user is not None and selectors.entry_scope(user) is not None

    def get_queryset(self):
        if self._listed_from_entries():
            # A unit's orders newest first, read in order from its ``ScopeEntry`` rows: a page of
            # rows, not the unit's whole history sorted (the same orders as the visibility rule).
            seen = selectors.seen_in_order(self.request.user, "dispatched_at")
            return seen.select_related("unit", "appeal").prefetch_related("assisting_units")
        qs = super().get_queryset()
        return _with_detail(qs) if self.action == "retrieve" else qs

    @_schema(None, "签收")
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        return self._do(request, None, lambda o, u, d: services.sign_for(o, actor=u))

    @_schema(None, "开始办理")
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._do(request, None, lambda o, u, d: services.start(o, actor=u))

    @_schema(s.WorkOrderFeedbackSerializer, "提交办结反馈")
    @action(detail=True, methods=["post"], url_path="submit-feedback")
    def submit_feedback(self, request, pk=None):
        def call(o, u, d):
            files = request.FILES.getlist("attachments") if hasattr(request, "FILES") else []
            return services.submit_feedback(
                o,
                actor=u,
                text=d["text"],
                result=d["result"],
                contact_method=d["contact_method"],
                contacted_at=d.get("contacted_at"),
                attachments=files,
            )

        return self._do(request, s.WorkOrderFeedbackSerializer, call)

    @_schema(s.WorkOrderNoteSerializer, "审核通过")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._do(
            request, s.WorkOrderNoteSerializer, lambda o, u, d: services.approve(o, actor=u, note=d["note"])
        )

    @_schema(s.WorkOrderReasonDaysSerializer, "退回重办")
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        return self._do(
            request,
            s.WorkOrderReasonDaysSerializer,
            lambda o, u, d: services.return_for_rework(
                o, actor=u, reason=d["reason"], working_days=d.get("working_days")
            ),
        )

    @_schema(s.WorkOrderReasonSerializer, "退单")
    @action(detail=True, methods=["post"], url_path="hand-back")
    def hand_back(self, request, pk=None):
        return self._do(
            request, s.WorkOrderReasonSerializer, lambda o, u, d: services.hand_back(o, actor=u, reason=d["reason"])
        )

    @_schema(s.WorkOrderSubDispatchSerializer, "转派下级单位")
    @action(detail=True, methods=["post"], url_path="sub-dispatch")
    def sub_dispatch(self, request, pk=None):
        return self._do(
            request,
            s.WorkOrderSubDispatchSerializer,
            lambda o, u, d: services.sub_dispatch(o, actor=u, unit=d["unit"], note=d["note"]),
        )

    @_schema(s.WorkOrderExtensionRequestSerializer, "申请延期")
    @action(detail=True, methods=["post"], url_path="request-extension")
    def request_extension(self, request, pk=None):
        return self._do(
            request,
            s.WorkOrderExtensionRequestSerializer,
            lambda o, u, d: services.request_extension(o, actor=u, days=d["days"], reason=d["reason"]),
        )

    @_schema(s.WorkOrderApproveExtensionSerializer, "同意延期")
    @action(detail=True, methods=["post"], url_path="approve-extension")
    def approve_extension(self, request, pk=None):
        return self._do(
            request,
            s.WorkOrderApproveExtensionSerializer,
            lambda o, u, d: services.approve_extension(o, actor=u, days=d.get("days"), note=d["note"]),
        )

    @_schema(s.WorkOrderReasonSerializer, "不同意延期")
    @action(detail=True, methods=["post"], url_path="refuse-extension")
    def refuse_extension(self, request, pk=None):
        return self._do(
            request,
            s.WorkOrderReasonSerializer,
            lambda o, u, d: services.refuse_extension(o, actor=u, reason=d["reason"]),
        )

    @_schema(s.WorkOrderCloseSerializer, "办结")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._do(
            request, s.WorkOrderCloseSerializer, lambda o, u, d: services.close(o, actor=u, reply=d["reply"])
        )

    @_schema(s.WorkOrderReasonDaysSerializer, "重新办理")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._do(
            request,
            s.WorkOrderReasonDaysSerializer,
            lambda o, u, d: services.reopen(o, actor=u, reason=d["reason"], working_days=d.get("working_days")),
        )

    @_schema(s.WorkOrderReasonSerializer, "挂牌督办")
    @action(detail=True, methods=["post"], url_path="list")
    def list_for_supervision(self, request, pk=None):
        return self._do(
            request, s.WorkOrderReasonSerializer, lambda o, u, d: services.list_order(o, actor=u, reason=d["reason"])
        )

    @_schema(s.WorkOrderReasonSerializer, "撤销挂牌")
    @action(detail=True, methods=["post"])
    def unlist(self, request, pk=None):
        return self._do(
            request, s.WorkOrderReasonSerializer, lambda o, u, d: services.unlist_order(o, actor=u, reason=d["reason"])
        )

    @_schema(s.ConsultationSerializer, "记录联合会商")
    @action(detail=True, methods=["post"])
    def consult(self, request, pk=None):
        return self._do(
            request,
            s.ConsultationSerializer,
            lambda o, u, d: services.record_consultation(
                o,
                actor=u,
                topic=d["topic"],
                held_on=d["held_on"],
                departments=list(d["departments"]),
                participants=d.get("participants", ""),
                decision=d["decision"],
            ),
        )


MOVE_ACTIONS = {
    "sign", "start", "submit_feedback", "approve", "return_", "hand_back", "sub_dispatch", "request_extension",
    "approve_extension", "refuse_extension", "close", "reopen", "list_for_supervision", "unlist", "consult",
}  # fmt: skip


class AppealDispatchViewSet(VisibleViewSetMixin, viewsets.GenericViewSet):
    """派单 of an appeal, ``POST /api/v1/appeals/{id}/dispatch/``: the work-orders app owns the
    dispatch and contributes this action to the appeal's API (same path, roles and answer as the
    appeal's other actions: the appeal as it is afterwards)."""

    queryset = AppealViewSet.queryset
    serializer_class = AppealSerializer
    permission_classes = [TriageRole]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        summary="派单（生成工单）",
        request=s.DispatchSerializer,
        responses={200: AppealSerializer, **ERRORS},
    )
    # Not named "dispatch": that is the method every DRF view answers requests with.
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to_unit(self, request, pk=None):
        appeal = self.get_object()
        payload = s.DispatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.dispatch_appeal(
            appeal,
            unit=data["unit"],
            actor=request.user,
            assisting_units=data.get("assisting_units", []),
            note=data["note"],
        )
        fresh = self.get_queryset().get(pk=appeal.pk)
        return Response(AppealSerializer(fresh, context=self.get_serializer_context()).data)
