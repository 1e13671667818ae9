from rest_framework import serializers

from ..choices import SavedList
from ..models import SavedView, Unit, User
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


class SavedViewSerializer(StrictModelSerializer):
    """我的视图: ``query`` is stored sanitised (only the list's own filter parameters are kept);
    ``url`` opens the list with it."""

    list_name = serializers.ChoiceField(choices=SavedList.choices)
    url = StrictCharField(read_only=True, help_text="the list's URL with the view's filters")

    class Meta:
        model = SavedView
        fields = ["id", "list_name", "name", "query", "url", "created_at"]
        read_only_fields = ["id", "url", "created_at"]

    def to_representation(self, instance):
        from ..saved_views import url_of

        data = super().to_representation(instance)
        data["url"] = url_of(instance)
        return data
