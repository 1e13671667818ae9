from rest_framework import serializers

from ..models import Unit, User


class UnitSerializer(serializers.ModelSerializer):
    tier_display = serializers.CharField(source="get_tier_display", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "short_name", "tier", "tier_display", "parent", "path", "is_active"]


class MeSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    unit = UnitSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role", "role_display", "unit"]
