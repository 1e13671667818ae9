from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from intake.api.fields import CitizenPhoneField
from intake.limits import limit_kwargs
from intake.validators import validate_received_at
from units.api.fields import StrictCharField, StrictModelSerializer

from ..models import DeliveryAttempt, ImportBatch, ResultDelivery


class AppealPushSerializer(serializers.Serializer):
    """One appeal pushed by 12345, 12389 or a message board (SPEC §11)."""

    external_id = StrictCharField(label=_("来源编号"), **limit_kwargs("external_id"))
    received_at = serializers.DateTimeField(
        label=_("受理时间"),
        help_text=_("ISO 8601，带时区，如 2026-05-20T14:30:00+08:00"),
        validators=[validate_received_at],
    )
    citizen_name = StrictCharField(required=False, allow_blank=True, default="", **limit_kwargs("citizen_name"))
    citizen_phone = CitizenPhoneField()
    content = StrictCharField(label=_("诉求内容"), **limit_kwargs("content"))
    address = StrictCharField(required=False, allow_blank=True, default="", **limit_kwargs("address"))
    category_hint = StrictCharField(required=False, allow_blank=True, allow_null=True, **limit_kwargs("category_hint"))
    is_enterprise = serializers.BooleanField(required=False, default=False)


class AppealPushResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_code = StrictCharField()


class DeliveryAttemptSerializer(StrictModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "http_status", "response_excerpt", "error", "duration_ms"]


class ResultDeliverySerializer(StrictModelSerializer):
    source = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status_display = StrictCharField(source="get_status_display", read_only=True)
    attempt_rows = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = ResultDelivery
        fields = [
            "id",
            "uuid",
            "appeal",
            "source",
            "sequence",
            "status",
            "status_display",
            "attempts",
            "next_attempt_at",
            "last_error",
            "delivered_at",
            "created_at",
            "payload",
            "attempt_rows",
        ]


class ImportBatchSerializer(StrictModelSerializer):
    source = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind = StrictCharField(read_only=True, help_text="appeals / service_records")
    status_display = StrictCharField(source="get_status_display", read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "kind",
            "source",
            "filename",
            "status",
            "status_display",
            "method",
            "total_rows",
            "created",
            "duplicates",
            "rejected",
            "progress",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
