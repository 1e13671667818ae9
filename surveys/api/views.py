"""REST API of the surveys app: service records (read, and the platform push), evaluation SMS,
ratings, and callbacks with their actions."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from feeds.auth import FeedKeyAuthentication, FeedSourcePermission, FeedSourceThrottle
from feeds.choices import FeedKind
from sms.choices import SmsPurpose
from sms.filters import OutboundSmsFilter
from sms.models import OutboundSms
from units.visibility import HasRole, VisibleViewSetMixin

from .. import permissions
from ..filters import CallbackFilter, RatingFilter, RatingPointFilter, ServiceRecordFilter
from ..models import Callback, Rating, RatingPoint, ServiceRecord
from ..services.callbacks import close_callback, open_rectification, record_call
from ..services.qr_ratings import rotate_rating_point, save_rating_point
from ..services.records import MAX_RECORDS_PER_PUSH, take_in_service_records
from . import serializers as s

CENTER_AND_SUPERVISORS = permissions.READ_ROLES

_400 = OpenApiResponse(description=_("输入有误（字段错误）"))
_404 = OpenApiResponse(s.SurveyDetailSerializer, description=_("不存在或无权查看"))
_409 = OpenApiResponse(s.SurveyDetailSerializer, description=_("当前状态不允许此操作"))


class ReadOnly(VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    pass


@extend_schema_view(
    list=extend_schema(summary=_("业务记录列表")),
    retrieve=extend_schema(summary=_("业务记录详情"), responses={200: s.ServiceRecordSerializer, 404: _404}),
)
class ServiceRecordViewSet(ReadOnly):
    queryset = ServiceRecord.objects.select_related("business_type", "unit")
    serializer_class = s.ServiceRecordSerializer
    filterset_class = ServiceRecordFilter
    cursor_ordering = ("-served_at", "-id")


@extend_schema_view(
    list=extend_schema(summary=_("回访评价短信列表")),
    retrieve=extend_schema(summary=_("回访评价短信详情"), responses={200: s.EvaluationSerializer, 404: _404}),
)
class EvaluationViewSet(ReadOnly):
    queryset = OutboundSms.objects.filter(purpose=SmsPurpose.EVALUATION).select_related("service_record", "rating")
    serializer_class = s.EvaluationSerializer
    filterset_class = OutboundSmsFilter
    cursor_ordering = ("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(summary=_("评价列表")),
    retrieve=extend_schema(summary=_("评价详情"), responses={200: s.RatingSerializer, 404: _404}),
)
class RatingViewSet(ReadOnly):
    queryset = Rating.objects.select_related("unit", "business_type", "service_record", "sms")
    serializer_class = s.RatingSerializer
    filterset_class = RatingFilter
    cursor_ordering = ("-rated_at", "-id")


class CallbackRole(HasRole):
    """Center staff, supervisors and administrators read; center staff and administrators act."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if view.action in ("list", "retrieve"):
            return True
        return permissions.may_work_callback(request.user)


@extend_schema_view(
    list=extend_schema(summary=_("人工回访列表（按回访时限）")),
    retrieve=extend_schema(summary=_("人工回访详情"), responses={200: s.CallbackSerializer, 404: _404}),
)
class CallbackViewSet(ReadOnly):
    queryset = Callback.objects.select_related(
        "unit", "rating", "rating__unit", "rating__business_type", "rating__sms", "rating__service_record"
    )
    serializer_class = s.CallbackSerializer
    filterset_class = CallbackFilter
    cursor_ordering = ("due_at", "id")
    allowed_roles = CENTER_AND_SUPERVISORS
    permission_classes = [CallbackRole]

    def _run(self, func, **kwargs):
        callback = self.get_object()
        try:
            func(callback, actor=self.request.user, **kwargs)
        except DjangoValidationError as exc:
            raise ValidationError({"detail": " ".join(exc.messages)}) from exc
        callback.refresh_from_db()
        return Response(s.CallbackSerializer(callback).data)

    @extend_schema(
        summary=_("登记一次回访通话"),
        request=s.RecordCallSerializer,
        responses={200: s.CallbackSerializer, 400: _400, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"], url_path="record-call")
    def record_call(self, request, pk=None):
        payload = s.RecordCallSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._run(record_call, **payload.validated_data)

    @extend_schema(
        summary=_("派发整改工单"),
        request=s.RectifySerializer,
        responses={200: s.CallbackSerializer, 400: _400, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"])
    def rectify(self, request, pk=None):
        payload = s.RectifySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._run(open_rectification, **payload.validated_data)

    @extend_schema(
        summary=_("回访结案"),
        request=s.CloseCallbackSerializer,
        responses={200: s.CallbackSerializer, 400: _400, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        payload = s.CloseCallbackSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._run(close_callback, **payload.validated_data)


class RatingPointRole(HasRole):
    """Every staff role reads (within its units); center staff and administrators write."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if view.action in ("list", "retrieve"):
            return True
        return permissions.may_edit_rating_points(request.user)


@extend_schema_view(
    list=extend_schema(summary=_("评价点列表")),
    retrieve=extend_schema(summary=_("评价点详情（含二维码SVG）"), responses={200: s.RatingPointSerializer, 404: _404}),
    create=extend_schema(summary=_("新增评价点"), responses={201: s.RatingPointSerializer, 400: _400}),
    update=extend_schema(summary=_("修改评价点"), responses={200: s.RatingPointSerializer, 400: _400, 404: _404}),
    partial_update=extend_schema(
        summary=_("修改评价点（部分字段）"), responses={200: s.RatingPointSerializer, 400: _400, 404: _404}
    ),
)
class RatingPointViewSet(
    VisibleViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """评价点: QR-code rating points. Unit users read their unit's points (others answer 404);
    center staff and administrators create, edit and rotate them. Switch one off with
    ``is_active: false`` rather than deleting it (its ratings keep pointing at it)."""

    queryset = RatingPoint.objects.select_related("unit")
    serializer_class = s.RatingPointSerializer
    filterset_class = RatingPointFilter
    cursor_ordering = ("-created_at", "-id")
    permission_classes = [RatingPointRole]

    def _save(self, serializer, instance=None):
        data = serializer.validated_data

        def value(name, default):
            return data.get(name, getattr(instance, name, default) if instance else default)

        try:
            point = save_rating_point(
                instance,
                actor=self.request.user,
                unit=value("unit", None),
                kind=value("kind", "window"),
                name=value("name", ""),
                officer_code=value("officer_code", ""),
                officer=instance.officer if instance and "officer_code" not in data else None,
                is_active=value("is_active", True),
            )
        except DjangoValidationError as exc:
            from rest_framework.exceptions import ValidationError

            raise ValidationError(exc.message_dict) from exc
        serializer.instance = point

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    @extend_schema(
        summary=_("更换二维码（旧二维码立即失效）"),
        request=None,
        responses={200: s.RatingPointSerializer, 404: _404},
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        point = rotate_rating_point(self.get_object(), actor=request.user)
        return Response(self.get_serializer(point).data)


@extend_schema_view(
    list=extend_schema(summary=_("民意调查列表")),
    retrieve=extend_schema(summary=_("民意调查详情（含题目）"), responses={200: s.SurveySerializer, 404: _404}),
)
class SurveyViewSet(ReadOnly):
    """民意调查 (read only): center staff, supervisors and administrators."""

    serializer_class = s.SurveySerializer
    cursor_ordering = ("-created_at", "-id")
    allowed_roles = CENTER_AND_SUPERVISORS

    def get_queryset(self):
        from django.db.models import Count, Prefetch

        from ..models import Survey, SurveyQuestion

        return (
            Survey.objects.visible_to(self.request.user)
            .annotate(invited=Count("invitations", distinct=True), responded=Count("responses", distinct=True))
            .prefetch_related(Prefetch("questions", queryset=SurveyQuestion.objects.order_by("position", "id")))
        )

    @extend_schema(summary=_("调查报告：各题统计与回收率"), responses={200: s.SurveyReportSerializer, 404: _404})
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        from ..selectors import survey_report

        return Response(s.SurveyReportSerializer(survey_report(self.get_object())).data)


def _refuse_values_that_are_not_text(data: list[dict]) -> None:
    """A record's fields are text (or null): a number or a list there is a malformed push (400),
    as the schema says; a text the service cannot read stays a rejected row."""
    fields = s.PushRecordSerializer().fields
    for index, item in enumerate(data):
        for name in fields:
            value = item.get(name)
            if value is not None and not isinstance(value, str):
                raise ValidationError(
                    {name: _("第%(n)d条业务记录的 %(field)s 应为文本。") % {"n": index + 1, "field": name}}
                )


def _without_nul(item: dict) -> dict:
    """A pushed record without NUL characters, which no field may hold and PostgreSQL refuses."""
    return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in item.items()}


class ServiceRecordPushView(APIView):
    """``POST /api/v1/feeds/service-records/``: a JSON list of up to 1,000 service records, with
    ``Authorization: Bearer <key>`` of the "service-records" source. Idempotent by external id."""

    authentication_classes = [FeedKeyAuthentication]
    permission_classes = [FeedSourcePermission]
    throttle_classes = [FeedSourceThrottle]
    feed_kind = FeedKind.SERVICE_RECORDS
    feed_source_code = "service-records"

    @extend_schema(
        summary=_("推送业务记录"),
        request=s.PushRecordSerializer(many=True),
        responses={200: s.PushResultSerializer, 400: _400, 401: OpenApiResponse(description=_("缺少有效密钥"))},
    )
    def post(self, request):
        data = request.data
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ValidationError({"detail": _("请求体应为业务记录的JSON数组，每条记录是一个JSON对象。")})
        if len(data) > MAX_RECORDS_PER_PUSH:
            raise ValidationError({"detail": _("一次最多推送%(n)d条业务记录。") % {"n": MAX_RECORDS_PER_PUSH}})
        _refuse_values_that_are_not_text(data)
        rows = [(i, _without_nul(item)) for i, item in enumerate(data)]
        source = getattr(request.auth, "code", "") or "api"
        result = take_in_service_records(rows=rows, source=source, actor=None)
        return Response(result.as_dict(), status=status.HTTP_200_OK)
