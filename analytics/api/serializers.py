"""API representations of metrics, rankings and bulletins."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from units.choices import Tier

from ..choices import BulletinKind, PeriodKind
from ..models import Bulletin, Ranking, RankingEntry


class RatioSerializer(serializers.Serializer):
    num = serializers.FloatField()
    den = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class FiguresSerializer(serializers.Serializer):
    """The figures of one unit (its subtree) or of the whole scope for a period."""

    satisfaction = RatioSerializer()
    completion = RatioSerializer()
    on_time = RatioSerializer()
    resolution = RatioSerializer()
    repeat = RatioSerializer()
    reply = RatioSerializer()
    escalation = RatioSerializer()
    escalations = serializers.IntegerField()
    appeals = serializers.IntegerField()
    ratings = serializers.IntegerField()
    sample = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())


class UnitFiguresSerializer(FiguresSerializer):
    unit_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.CharField()


class PeriodOutSerializer(serializers.Serializer):
    first = serializers.DateField()
    until = serializers.DateField(help_text="不含")


class MetricsSerializer(serializers.Serializer):
    period = PeriodOutSerializer()
    basic_weight = serializers.FloatField()
    unit = serializers.IntegerField(allow_null=True, help_text="统计范围单位；null 为全市")
    totals = FiguresSerializer()
    units = UnitFiguresSerializer(many=True)


class MetricsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, required=False, default=PeriodKind.MONTH)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False, help_text="含当日")
    unit = serializers.IntegerField(required=False, help_text="下钻单位 id：返回其下级单位的指标")

    def validate(self, attrs):
        if attrs.get("period") == PeriodKind.CUSTOM:
            if not attrs.get("start") or not attrs.get("end"):
                raise serializers.ValidationError(_("自定义周期请填写开始日期和结束日期。"))
            if attrs["end"] < attrs["start"]:
                raise serializers.ValidationError(_("结束日期不能早于开始日期。"))
            if (attrs["end"] - attrs["start"]).days >= 366:
                raise serializers.ValidationError(_("自定义周期最长一年。"))
        return attrs


class RankingEntrySerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = RankingEntry
        fields = ["unit", "unit_code", "unit_name", "score", "rank", "eligible", "flag", "sample", "figures"]


class RankingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ranking
        fields = [
            "id",
            "month",
            "tier",
            "status",
            "weights",
            "basic_weight",
            "min_sample",
            "list_size",
            "computed_at",
            "published_at",
            "published_by",
        ]


class RankingDetailSerializer(RankingSerializer):
    entries = RankingEntrySerializer(many=True, read_only=True)

    class Meta(RankingSerializer.Meta):
        fields = [*RankingSerializer.Meta.fields, "entries"]


class ComputeRankingSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="该月任一天，如 2026-10-01")
    tier = serializers.ChoiceField(choices=[(t.value, t.label) for t in (Tier.STATION, Tier.DISTRICT, Tier.DEPARTMENT)])


class BulletinSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bulletin
        fields = ["id", "kind", "period_start", "period_end", "title", "summary", "generated_at"]


class BulletinDetailSerializer(BulletinSerializer):
    class Meta(BulletinSerializer.Meta):
        fields = [*BulletinSerializer.Meta.fields, "content"]


class GenerateBulletinSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BulletinKind.choices)
    on = serializers.DateField(help_text="周期内任一天")
