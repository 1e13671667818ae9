"""Serializers of the alerts API. A caller is never named: his appeals show the phone masked."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from units.api.fields import StrictCharField

from ..models import Alert, AlertEvent


class AlertSerializer(serializers.ModelSerializer):
    detector_display = StrictCharField(source="get_detector_display", read_only=True)
    state_display = StrictCharField(source="get_state_display", read_only=True)
    category_name = StrictCharField(source="category.name", read_only=True, default=None, allow_null=True)
    unit_name = StrictCharField(source="unit.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "detector",
            "detector_display",
            "state",
            "state_display",
            "title",
            "summary",
            "place",
            "category",
            "category_name",
            "unit",
            "unit_name",
            "observed",
            "expected",
            "threshold",
            "is_listed",
            "raised_at",
            "updated_at",
        ]
        read_only_fields = fields


class EvidenceSerializer(serializers.Serializer):
    """One appeal behind the alert, as the alert's page shows it."""

    id = serializers.IntegerField(read_only=True)
    tracking_code = StrictCharField(read_only=True)
    channel = StrictCharField(read_only=True)
    channel_display = StrictCharField(source="get_channel_display", read_only=True)
    category_name = StrictCharField(source="category.name", read_only=True, default=None, allow_null=True)
    address = StrictCharField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    severity = StrictCharField(read_only=True)
    unit_name = StrictCharField(source="unit.name", read_only=True, default=None, allow_null=True)
    citizen_phone_masked = StrictCharField(source="masked_phone", read_only=True)


class AlertEventSerializer(serializers.ModelSerializer):
    action_display = StrictCharField(source="get_action_display", read_only=True)
    actor = serializers.SerializerMethodField()
    # The API keeps its names for the timeline's columns.
    from_state = StrictCharField(source="from_status", read_only=True)
    to_state = StrictCharField(source="to_status", read_only=True)
    at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["action", "action_display", "from_state", "to_state", "note", "actor", "at"]
        read_only_fields = fields

    def get_actor(self, obj) -> str | None:
        return obj.actor.display_name if obj.actor_id else None


class AlertDetailSerializer(AlertSerializer):
    """An alert with its evidence (the appeals, oldest first) and its timeline."""

    evidence = serializers.SerializerMethodField()
    events = AlertEventSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "handled_note", "evidence", "events"]
        read_only_fields = fields

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, obj) -> list[dict]:
        from ..selectors import evidence_of

        return EvidenceSerializer(evidence_of(obj), many=True).data


class HandleSerializer(serializers.Serializer):
    note = StrictCharField(max_length=2000, help_text=_("处置说明（必填）"))
