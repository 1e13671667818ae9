from django.contrib import admin

from .models import Alert, AlertEvent, WarningRule


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):
    """Each detector's parameters (docs/alerts.md says which field each detector reads)."""

    list_display = [
        "detector",
        "is_active",
        "window_hours",
        "baseline_days",
        "p_value",
        "min_count",
        "min_channels",
        "similarity",
        "notify_leaders",
    ]
    list_editable = ["is_active"]


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    readonly_fields = ["action", "from_status", "to_status", "note", "actor", "created_at"]
    can_delete = False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "detector", "state", "unit", "observed", "threshold", "raised_at"]
    list_filter = ["detector", "state"]
    # States move through the staff page (services), never here.
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [AlertEventInline]
