from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from units.api.fields import ChoiceLabelField, StrictCharField, StrictModelSerializer
from units.models import Unit

from ..choices import Channel, Kind, Severity
from ..limits import limit_kwargs
from ..models import Appeal, AppealEvent, Attachment, Category, PhoneReveal
from ..validators import validate_received_at
from .fields import CitizenPhoneField


class AppealSerializer(StrictModelSerializer):
    """An appeal as staff see it: the citizen's phone only masked (reveal it with ``reveal-phone/``)."""

    channel_display = ChoiceLabelField(source="channel")
    kind_display = ChoiceLabelField(source="kind")
    severity_display = ChoiceLabelField(source="severity")
    severity_colour = serializers.SerializerMethodField()
    status_display = ChoiceLabelField(source="status")
    category_name = serializers.SerializerMethodField()
    unit_name = StrictCharField(source="unit.name", read_only=True, default="")
    citizen_phone_masked = StrictCharField(source="masked_phone", read_only=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "tracking_code",
            "channel",
            "channel_display",
            "external_id",
            "kind",
            "kind_display",
            "category",
            "category_name",
            "category_hint",
            "severity",
            "severity_display",
            "severity_colour",
            "status",
            "status_display",
            "title",
            "content",
            "address",
            "citizen_name",
            "citizen_phone_masked",
            "is_enterprise",
            "received_at",
            "unit",
            "unit_name",
            "proposed_unit",
            "is_repeat",
            "repeat_of",
            "similarity",
            "merged_into",
            "risk_words",
            "public_reply",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_severity_colour(self, obj: Appeal) -> str:
        return Severity(obj.severity).colour

    def get_category_name(self, obj: Appeal) -> str:
        return str(obj.category) if obj.category_id else ""


class AppealCreateSerializer(serializers.Serializer):
    """A new appeal entered by staff or sent by a system (``external_id`` makes a re-send harmless)."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    content = StrictCharField(**limit_kwargs("content"))
    title = StrictCharField(required=False, allow_blank=True, default="", **limit_kwargs("title"))
    external_id = StrictCharField(required=False, allow_blank=True, allow_null=True, **limit_kwargs("external_id"))
    received_at = serializers.DateTimeField(required=False, allow_null=True, validators=[validate_received_at])
    citizen_name = StrictCharField(required=False, allow_blank=True, default="", **limit_kwargs("citizen_name"))
    citizen_phone = CitizenPhoneField()
    address = StrictCharField(required=False, allow_blank=True, default="", **limit_kwargs("address"))
    kind = serializers.ChoiceField(choices=Kind.choices, required=False, allow_null=True)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    category_hint = StrictCharField(required=False, allow_blank=True, allow_null=True, **limit_kwargs("category_hint"))
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_null=True)
    is_enterprise = serializers.BooleanField(required=False, default=False)


class TriageSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(is_active=True), required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    proposed_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True), required=False)
    note = StrictCharField(required=False, allow_blank=True, default="")


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text=_("原诉求的 id"))
    note = StrictCharField(required=False, allow_blank=True, default="")


class CloseSerializer(serializers.Serializer):
    reply = StrictCharField(help_text=_("给群众的答复"))
    note = StrictCharField(required=False, allow_blank=True, default="")


class MarkForDispatchSerializer(serializers.Serializer):
    proposed_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True), required=False)
    note = StrictCharField(required=False, allow_blank=True, default="")


_REASON_REQUIRED = _("请填写查看事由（为什么需要查看完整号码）。")


class RevealPhoneSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=200,
        help_text=_("查看事由（必填），记入号码查看记录"),
        error_messages={"required": _REASON_REQUIRED, "blank": _REASON_REQUIRED, "null": _REASON_REQUIRED},
    )


class RevealedPhoneSerializer(serializers.Serializer):
    phone = StrictCharField()


class DetailSerializer(serializers.Serializer):
    detail = StrictCharField()


class PhoneRevealSerializer(StrictModelSerializer):
    user_name = StrictCharField(source="user.display_name", read_only=True)
    tracking_code = serializers.SerializerMethodField()

    class Meta:
        model = PhoneReveal
        fields = [
            "id",
            "user",
            "user_name",
            "reason",
            "object_type",
            "object_id",
            "object_label",
            "appeal",
            "tracking_code",
            "ip",
            "created_at",
        ]

    def get_tracking_code(self, obj: PhoneReveal) -> str:
        return obj.appeal.tracking_code if obj.appeal_id else ""


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("图片（jpg、png、webp）或录音（mp3、m4a、amr、wav）"))


class AttachmentSerializer(StrictModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "type", "original_name", "size", "created_at"]


class AppealEventSerializer(StrictModelSerializer):
    actor_name = StrictCharField(source="actor.display_name", read_only=True, default="")

    class Meta:
        model = AppealEvent
        fields = ["id", "action", "actor", "actor_name", "from_status", "to_status", "note", "data", "created_at"]


class CallerLookupSerializer(serializers.Serializer):
    phone = StrictCharField(max_length=40, help_text=_("来电号码（放在请求体中，不放在网址里）"))
