from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from intake.phones import mask
from units.api.fields import ChoiceLabelField, StrictCharField, StrictModelSerializer
from units.models import Unit

from ..choices import ContactMethod, FeedbackResult
from ..models import Consultation, WorkOrder, WorkOrderEvent


class WorkOrderEventSerializer(StrictModelSerializer):
    action_display = ChoiceLabelField(source="action")
    actor = StrictCharField(source="actor.display_name", default=None, read_only=True, allow_null=True)

    class Meta:
        model = WorkOrderEvent
        fields = ["id", "action", "action_display", "from_status", "to_status", "actor", "note", "data", "created_at"]


class WorkOrderSerializer(StrictModelSerializer):
    status_display = ChoiceLabelField(source="status")
    unit_name = StrictCharField(source="unit.name", read_only=True)
    appeal_tracking_code = StrictCharField(source="appeal.tracking_code", read_only=True)
    appeal_content = StrictCharField(source="appeal.content", read_only=True)
    citizen_phone_masked = serializers.SerializerMethodField()
    # Empty until the unit submits its feedback: the schema must list "" among the values.
    feedback_result = serializers.ChoiceField(choices=FeedbackResult.choices, allow_blank=True, read_only=True)
    contact_method = serializers.ChoiceField(choices=ContactMethod.choices, allow_blank=True, read_only=True)

    class Meta:
        model = WorkOrder
        fields = [
            "id", "number", "appeal", "appeal_tracking_code", "appeal_content", "citizen_phone_masked",
            "unit", "unit_name", "assisting_units", "status", "status_display", "severity",
            "dispatched_at", "sign_deadline", "due_at", "deadline_provisional", "urge_stage", "is_overdue",
            "signed_at", "handler", "feedback_text", "feedback_result", "contact_method", "feedback_at",
            "extension_state", "extension_days", "extension_reason", "handback_reason",
            "is_listed", "listed_reason", "closed_at", "closed_on_time", "reopen_count", "return_count",
        ]  # fmt: skip
        read_only_fields = fields

    def get_citizen_phone_masked(self, obj) -> str:
        return mask(obj.appeal.citizen_phone) if obj.appeal.citizen_phone else ""


class ConsultationSerializer(StrictModelSerializer):
    class Meta:
        model = Consultation
        fields = ["id", "topic", "held_on", "departments", "participants", "decision", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"departments": {"queryset": Unit.objects.filter(is_active=True)}}


class WorkOrderDetailSerializer(WorkOrderSerializer):
    events = WorkOrderEventSerializer(many=True, read_only=True)
    consultations = ConsultationSerializer(many=True, read_only=True)

    class Meta(WorkOrderSerializer.Meta):
        fields = [*WorkOrderSerializer.Meta.fields, "events", "consultations"]
        read_only_fields = fields


class WorkOrderEmptySerializer(serializers.Serializer):
    pass


class WorkOrderNoteSerializer(serializers.Serializer):
    note = StrictCharField(required=False, allow_blank=True, default="")


class WorkOrderReasonSerializer(serializers.Serializer):
    reason = StrictCharField(error_messages={"required": _("请填写理由。"), "blank": _("请填写理由。")})


class WorkOrderReasonDaysSerializer(WorkOrderReasonSerializer):
    working_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=60)


class WorkOrderFeedbackSerializer(serializers.Serializer):
    text = StrictCharField(error_messages={"required": _("请填写办理情况。"), "blank": _("请填写办理情况。")})
    result = serializers.ChoiceField(choices=FeedbackResult.choices)
    contact_method = serializers.ChoiceField(choices=ContactMethod.choices)
    contacted_at = serializers.DateTimeField(required=False)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=settings.WORKORDERS_ATTACHMENT_MAX_FILES
    )


class WorkOrderSubDispatchSerializer(serializers.Serializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True))
    note = StrictCharField(required=False, allow_blank=True, default="")


class WorkOrderExtensionRequestSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=settings.WORKORDERS_MAX_EXTENSION_DAYS)
    reason = StrictCharField()


class WorkOrderApproveExtensionSerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=60)
    note = StrictCharField(required=False, allow_blank=True, default="")


class WorkOrderCloseSerializer(serializers.Serializer):
    reply = StrictCharField(required=False, allow_blank=True, default="")


class DispatchSerializer(serializers.Serializer):
    """派单 of an appeal: the lead unit, assisting units and a note for the unit."""

    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True))
    assisting_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(is_active=True), many=True, required=False
    )
    note = StrictCharField(required=False, allow_blank=True, default="")
