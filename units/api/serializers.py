from ..models import Unit, User
from .fields import StrictCharField, StrictModelSerializer


class UnitSerializer(StrictModelSerializer):
    tier_display = StrictCharField(source="get_tier_display", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "short_name", "tier", "tier_display", "parent", "path", "is_active"]


class MeSerializer(StrictModelSerializer):
    role_display = StrictCharField(source="get_role_display", read_only=True)
    unit = UnitSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role", "role_display", "unit"]
