"""REST API of appeals: list (the desk's FilterSet), detail, create, and the triage actions."""

from __future__ import annotations

import functools

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from units.api.exceptions import ReferenceNotFound
from units.choices import Role
from units.visibility import HasRole, VisibleViewSetMixin

from .. import selectors, services
from ..filters import AppealFilter, is_text_search
from ..models import Appeal, PhoneReveal
from ..permissions import may_triage
from ..phones import normalize_phone, phone_hash
from . import serializers as s

_400 = OpenApiResponse(description=_("输入有误（字段错误）"))
_404 = OpenApiResponse(s.DetailSerializer, description=_("诉求不存在或无权查看"))
_409 = OpenApiResponse(s.DetailSerializer, description=_("当前状态不允许此操作"))


@functools.cache
def _appeal_writer() -> s.AppealSerializer:
    """One AppealSerializer per process for the body of a created appeal. Its fields depend on
    neither the request nor the appeal, and a serializer holds nothing between two
    ``to_representation`` calls (a list's one child serializer writes every row the same way):
    building the ModelSerializer's fields again for every create cost more than writing the body."""
    return s.AppealSerializer()


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class TriageRole(HasRole):
    """Reading is for every staff role that sees the appeal; changing it is for center staff."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if view.action in ("list", "retrieve", "reveal_phone", "timeline"):
            return True
        return may_triage(request.user)


@extend_schema_view(
    list=extend_schema(summary=_("诉求列表（与分诊台相同的筛选）")),
    retrieve=extend_schema(summary=_("诉求详情"), responses={200: s.AppealSerializer, 404: _404}),
)
class AppealViewSet(
    VisibleViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Appeals the user may see (unit users: those of their unit and below). Actions call the services."""

    queryset = Appeal.objects.select_related("category", "category__parent", "unit")
    serializer_class = s.AppealSerializer
    filterset_class = AppealFilter
    permission_classes = [TriageRole]

    @property
    def cursor_ordering(self):
        return selectors.ENTRY_NEWEST_FIRST if self._listed_from_entries() else selectors.NEWEST_FIRST

    def _listed_from_entries(self) -> bool:
        """A unit user's list without a text search (read from windows of time, ``search_window``)
        is read newest first from his unit's entries (PostgreSQL)."""
        request = getattr(self, "request", None)  # none while the schema is generated
        user = getattr(request, "user", None)
        return (
            getattr(self, "action", None) == "list"
            and user is not None
            and not is_text_search(request.query_params.get("q"), vendor=connection.vendor)
            and selectors.entry_scope(user) is not None
        )

    def get_queryset(self):
        if self._listed_from_entries():
            # A page of the unit's entries in the order of their index, not the unit's whole history
            # sorted; the same appeals as the visibility rule. The cursor's condition is on the
            # entry's ``list_at``, so a deep page starts at the cursor in the index.
            return selectors.seen_in_order(self.request.user).select_related("category", "category__parent", "unit")
        return super().get_queryset()

    def list(self, request, *args, **kwargs):
        if not is_text_search(request.query_params.get("q"), vendor=connection.vendor):
            return super().list(request, *args, **kwargs)
        with selectors.serial_reads():
            return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        base, searched = queryset, super().filter_queryset(queryset)
        if self.action != "list" or not is_text_search(self.request.query_params.get("q"), vendor=connection.vendor):
            return searched
        # A text search is read newest first from the smallest window of time that holds the page
        # on the cursor's side (selectors.search_window), not from the word's whole history.
        cursor = self.paginator.decode_cursor(self.request)
        anchor = parse_datetime(cursor.position) if cursor and cursor.position else None
        older = not (cursor and cursor.reverse)
        after = None
        if anchor is not None:
            after = Q(received_at__lt=anchor) if older else Q(received_at__gt=anchor)
        need = (cursor.offset if cursor else 0) + self.paginator.get_page_size(self.request) + 1
        params = self.request.query_params.copy()
        text = params.pop("q")[-1]
        unsearched = AppealFilter(params, queryset=base, request=self.request).qs
        return selectors.search_window(
            searched, need=need, anchor=anchor, older=older, after=after, unsearched=unsearched, text=text
        )

    def _ok(self, appeal: Appeal, code: int = status.HTTP_200_OK) -> Response:
        appeal = self.get_queryset().get(pk=appeal.pk)
        return Response(s.AppealSerializer(appeal, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary=_("新建诉求"),
        request=s.AppealCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER, required=False, description=_("重试同一请求时保持不变")
            )
        ],
        responses={201: s.AppealSerializer, 200: s.AppealSerializer, 400: _400},
    )
    def create(self, request, *args, **kwargs):
        payload = s.AppealCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        key = (request.headers.get("Idempotency-Key") or "").strip()[:100]
        if key:
            appeal, created = services.create_appeal_idempotent(key=key, actor=request.user, **fields)
        else:
            appeal, created = services.create_appeal(actor=request.user, **fields)
        if not created:
            return self._ok(appeal)
        # Just inserted: the row is what is in memory (no unit yet, its category already loaded),
        # so it is answered without reading it back, by the process's one AppealSerializer.
        return Response(_appeal_writer().to_representation(appeal), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("研判：设置类型、分类、分级"),
        request=s.TriageSerializer,
        responses={200: s.AppealSerializer, 400: _400, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"])
    def triage(self, request, pk=None):
        appeal = self.get_object()
        payload = s.TriageSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.triage_appeal(appeal, actor=request.user, **payload.validated_data)
        return self._ok(appeal)

    @extend_schema(
        summary=_("合并重复诉求到原诉求"),
        request=s.MergeSerializer,
        responses={200: s.AppealSerializer, 400: _400, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        appeal = self.get_object()
        payload = s.MergeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        into = self.get_queryset().filter(pk=payload.validated_data["into"]).first()
        if into is None:
            raise ReferenceNotFound("into", _("原诉求不存在或无权查看。"))
        services.merge_appeal(appeal, into=into, actor=request.user, note=payload.validated_data["note"])
        return self._ok(appeal)

    @extend_schema(
        summary=_("直接答复并办结"),
        request=s.CloseSerializer,
        responses={200: s.AppealSerializer, 400: _400, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        appeal = self.get_object()
        payload = s.CloseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.close_appeal(appeal, actor=request.user, **payload.validated_data)
        return self._ok(appeal)

    @extend_schema(
        summary=_("标记待派单"),
        request=s.MarkForDispatchSerializer,
        responses={200: s.AppealSerializer, 400: _400, 404: _404, 409: _409},
    )
    @action(detail=True, methods=["post"], url_path="mark-for-dispatch")
    def mark_for_dispatch(self, request, pk=None):
        appeal = self.get_object()
        payload = s.MarkForDispatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.mark_for_dispatch(
            appeal,
            actor=request.user,
            note=payload.validated_data["note"],
            proposed_unit=payload.validated_data.get("proposed_unit"),
        )
        return self._ok(appeal)

    @extend_schema(
        summary=_("来电人历史诉求（按号码查询）"),
        request=s.CallerLookupSerializer,
        responses={200: s.AppealSerializer(many=True), 400: _400},
    )
    @action(detail=False, methods=["post"], url_path="caller-history", pagination_class=None, filterset_class=None)
    def caller_history(self, request):
        payload = s.CallerLookupSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            caller = phone_hash(normalize_phone(payload.validated_data["phone"]))
        except DjangoValidationError:
            # A string that is no phone number has called about nothing: an empty history.
            return Response([])
        rows = selectors.caller_history(caller, user=request.user, limit=50)
        return Response(s.AppealSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(summary=_("处理记录（时间线）"), responses={200: s.AppealEventSerializer(many=True), 404: _404})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request, pk=None):
        appeal = self.get_object()
        events = appeal.events.select_related("actor").order_by("created_at", "id")
        return Response(s.AppealEventSerializer(events, many=True).data)

    @extend_schema(
        summary=_("上传附件"),
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer, 400: _400, 404: _404},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request, pk=None):
        appeal = self.get_object()
        payload = s.AttachmentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        attachment = services.add_attachment(appeal, upload=payload.validated_data["file"], actor=request.user)
        return Response(s.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("查看完整号码（留痕）"),
        description=_("必须填写查看事由；事由、查看人、时间和IP地址记入号码查看记录。"),
        request=s.RevealPhoneSerializer,
        responses={200: s.RevealedPhoneSerializer, 400: _400, 404: _404},
    )
    @action(detail=True, methods=["post"], url_path="reveal-phone")
    def reveal_phone(self, request, pk=None):
        appeal = self.get_object()
        payload = s.RevealPhoneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)  # a reason that is no string is a 400, not a 500
        phone = services.reveal_phone(
            appeal, actor=request.user, reason=payload.validated_data["reason"], ip=client_ip(request)
        )
        return Response({"phone": phone})


class PhoneRevealViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The log of revealed phone numbers, for administrators."""

    queryset = PhoneReveal.objects.select_related("user", "appeal").order_by("-created_at", "-id")
    serializer_class = s.PhoneRevealSerializer
    permission_classes = [HasRole]
    allowed_roles = (Role.ADMIN,)
    cursor_ordering = ("-created_at", "-id")
    filterset_fields = ["user", "appeal", "object_type", "object_id"]
