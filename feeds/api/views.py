"""Feeds API: platform pushes (key-authenticated) and read-only views of deliveries and batches."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from units.api.exceptions import from_django_validation_error
from units.parsers import LimitedJSONParser
from units.visibility import HasRole

from .. import permissions
from ..auth import FeedKeyAuthentication, FeedSourcePermission, FeedSourceThrottle
from ..choices import FeedKind
from ..filters import ImportBatchFilter, ResultDeliveryFilter
from ..selectors import import_batches, result_deliveries
from ..services import receive_appeal
from .serializers import (
    AppealPushResultSerializer,
    AppealPushSerializer,
    ImportBatchSerializer,
    ResultDeliverySerializer,
)

ErrorSerializer = inline_serializer("FeedError", {"detail": serializers.CharField()})


class AppealPushView(APIView):
    """``POST /api/v1/feeds/<source>/appeals/``: one appeal from 12345, 12389 or a message board.

    ``Authorization: Bearer <the source's key>``; when the source has a signing secret, also
    ``X-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` (and ``X-Timestamp`` if required).
    201 when new, 200 with the same body when this external id was already received.
    """

    authentication_classes = [FeedKeyAuthentication]
    permission_classes = [FeedSourcePermission]
    throttle_classes = [FeedSourceThrottle]
    parser_classes = [LimitedJSONParser]  # size and nesting limits before decoding
    feed_kind = FeedKind.APPEALS

    @extend_schema(
        operation_id="feeds_push_appeal",
        request=AppealPushSerializer,
        responses={
            201: AppealPushResultSerializer,
            200: AppealPushResultSerializer,
            400: OpenApiResponse(description=_("字段错误：{字段: [原因]}")),
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            429: ErrorSerializer,
        },
        tags=["feeds"],
    )
    def post(self, request, source: str):
        # The source the key authenticated: active, and checked against the URL's code and this
        # view's kind by FeedSourcePermission (read once per push, not twice).
        feed = request.auth
        serializer = AppealPushSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            appeal, created = receive_appeal(source=feed, data=serializer.validated_data)
        except ValidationError as exc:
            raise from_django_validation_error(exc) from exc
        body = {"id": appeal.pk, "tracking_code": appeal.tracking_code}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ResultDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Results sent back to 12345/12389, with every attempt (center staff and administrators)."""

    permission_classes = [HasRole]
    allowed_roles = permissions.FEED_ROLES
    serializer_class = ResultDeliverySerializer
    filterset_class = ResultDeliveryFilter
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self):
        return result_deliveries(self.request.user).prefetch_related("attempt_rows")


class ImportBatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Import batches and their counts (center staff and administrators)."""

    permission_classes = [HasRole]
    allowed_roles = permissions.FEED_ROLES
    serializer_class = ImportBatchSerializer
    filterset_class = ImportBatchFilter
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self):
        return import_batches(self.request.user)
