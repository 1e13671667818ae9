"""Serializers of the surveys API. Citizens' phones only ever appear masked."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from sms.models import OutboundSms
from units.api.fields import StrictCharField, StrictModelSerializer
from units.models import Unit

from ..choices import CallbackVerdict, CallOutcome
from ..models import Callback, Rating, RatingPoint, ServiceRecord


class SurveyDetailSerializer(serializers.Serializer):
    detail = StrictCharField()


class ServiceRecordSerializer(StrictModelSerializer):
    business_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_code = StrictCharField(source="unit.code", read_only=True)
    citizen_phone = StrictCharField(source="masked_phone", read_only=True)

    class Meta:
        model = ServiceRecord
        fields = [
            "id",
            "external_id",
            "business_type",
            "served_at",
            "unit_code",
            "officer_code",
            "citizen_phone",
            "source",
            "state",
            "skip_reason",
            "created_at",
        ]


class EvaluationSerializer(StrictModelSerializer):
    phone = StrictCharField(source="masked_phone", read_only=True)
    service_record = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    rating = serializers.SerializerMethodField()

    class Meta:
        model = OutboundSms
        fields = [
            "id",
            "service_record",
            "phone",
            "template_code",
            "text",
            "segments",
            "status",
            "send_after",
            "attempts",
            "sent_at",
            "delivered_at",
            "failed_at",
            "last_error",
            "needs_reconciliation",
            "rating",
            "created_at",
        ]

    def get_rating(self, obj) -> int | None:
        rating = getattr(obj, "rating", None)
        return rating.pk if rating else None


class RatingSerializer(StrictModelSerializer):
    unit_code = StrictCharField(source="unit.code", read_only=True, default=None)
    # null on a QR rating, which no service record stands behind.
    business_type = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    service_record = serializers.SlugRelatedField(slug_field="external_id", read_only=True, allow_null=True)
    evaluation = serializers.PrimaryKeyRelatedField(source="sms", read_only=True, allow_null=True)
    rating_point = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    rectification_order_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "evaluation",
            "service_record",
            "unit_code",
            "business_type",
            "verdict",
            "text",
            "aspect",
            "aspect_text",
            "source",
            "rating_point",
            "tags",
            "folds",
            "rectification_order_id",
            "rated_at",
        ]


class CallbackSerializer(StrictModelSerializer):
    unit_code = StrictCharField(source="unit.code", read_only=True, default=None)
    rating = RatingSerializer(read_only=True)
    rectification_order_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Callback
        fields = [
            "id",
            "rating",
            "unit_code",
            "status",
            "due_at",
            "attempts",
            "unreached",
            "reason",
            "is_reasonable",
            "verdict",
            "rectification_appeal",
            "rectification_order_id",
            "closed_at",
            "created_at",
        ]


class RecordCallSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CallOutcome.choices, label=_("拨打结果"))
    reason = StrictCharField(required=False, allow_blank=True, default="")
    is_reasonable = serializers.BooleanField(required=False, allow_null=True, default=None)
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=500)


class RectifySerializer(serializers.Serializer):
    note = StrictCharField(required=False, allow_blank=True, default="")


class CloseCallbackSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=CallbackVerdict.choices, label=_("回访结论"))
    note = StrictCharField(required=False, allow_blank=True, default="")


class PushRecordSerializer(serializers.Serializer):
    """One pushed service record, validated row by row by the service: a bad row is reported in
    ``errors`` (and counted as rejected) while the good rows go in, so no field is required by
    the schema; a row without one of them is rejected with its reason. For the same reason the
    schema asks no format of a value: a blank, null or unreadable one is a rejected row. Only a
    value that is not text at all (a number, a list) makes the whole push a 400."""

    external_id = StrictCharField(required=False, allow_blank=True, allow_null=True)
    business_type = StrictCharField(required=False, allow_blank=True, allow_null=True)
    served_at = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("ISO 8601，带时区，如 2026-05-20T14:30:00+08:00；无法识别的时间使该条记录被拒收"),
    )
    unit_code = StrictCharField(required=False, allow_blank=True, allow_null=True)
    officer_code = StrictCharField(required=False, allow_blank=True, allow_null=True)
    citizen_phone = StrictCharField(required=False, allow_blank=True, allow_null=True)


class PushErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    external_id = StrictCharField()
    reason = StrictCharField()


class PushResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = PushErrorSerializer(many=True)


class RatingPointSerializer(StrictModelSerializer):
    """A rating point and its current signed link (what its QR code encodes)."""

    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True), label=_("所属单位"))
    unit_code = StrictCharField(source="unit.code", read_only=True)
    unit_name = StrictCharField(source="unit.name", read_only=True)
    officer = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()
    qr_svg = serializers.SerializerMethodField()

    class Meta:
        model = RatingPoint
        fields = [
            "id",
            "unit",
            "unit_code",
            "unit_name",
            "kind",
            "name",
            "officer",
            "officer_code",
            "is_active",
            "token_version",
            "rotated_at",
            "url",
            "qr_svg",
            "created_at",
        ]
        read_only_fields = ["token_version", "rotated_at", "created_at"]
        validators = []  # the unique name per unit is checked by the service, in Chinese

    def get_url(self, obj) -> str:
        from ..qr import rating_url

        return rating_url(obj, self.context.get("request"))

    def get_qr_svg(self, obj) -> str:
        """Only on the detail (an SVG per row would bloat the list)."""
        view = self.context.get("view")
        if view is None or getattr(view, "action", "") == "list":
            return ""
        from ..qr import qr_svg

        return qr_svg(self.get_url(obj))

    def validate(self, attrs):
        from ..choices import RatingPointKind

        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        code = attrs.get("officer_code", getattr(self.instance, "officer_code", ""))
        if kind == RatingPointKind.BADGE and not (code or "").strip():
            raise serializers.ValidationError({"officer_code": _("民警警号牌需填写警号。")})
        return attrs


class SurveyQuestionSerializer(StrictModelSerializer):
    choices = serializers.ListField(child=StrictCharField(), read_only=True)

    class Meta:
        from ..models import SurveyQuestion

        model = SurveyQuestion
        fields = ["id", "position", "kind", "text", "choices", "required"]


class SurveySerializer(StrictModelSerializer):
    questions = SurveyQuestionSerializer(many=True, read_only=True)
    invited = serializers.IntegerField(read_only=True)
    responded = serializers.IntegerField(read_only=True)

    class Meta:
        from ..models import Survey

        model = Survey
        fields = [
            "id",
            "title",
            "kind",
            "intro",
            "status",
            "sample_source",
            "sample_from",
            "sample_to",
            "invited",
            "responded",
            "questions",
            "created_at",
            "opened_at",
            "closed_at",
        ]


class ReportCountSerializer(serializers.Serializer):
    label = StrictCharField()
    n = serializers.IntegerField()


class ReportQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="question.pk")
    text = StrictCharField(source="question.text")
    kind = StrictCharField(source="question.kind")
    answered = serializers.IntegerField()
    counts = ReportCountSerializer(many=True, required=False)
    mean = serializers.FloatField(required=False)
    texts = serializers.ListField(child=StrictCharField(), required=False)


class SurveyReportSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    responded = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text=_("回收率（%）：答卷数/样本数"))
    questions = ReportQuestionSerializer(many=True)
