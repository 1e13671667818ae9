from django.contrib import admin

from .models import Appeal, AppealEvent, Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent", "default_severity", "is_active", "sort_order")
    list_filter = ("default_severity", "is_active")
    search_fields = ("name", "code")


class AppealEventInline(admin.TabularInline):
    model = AppealEvent
    extra = 0
    readonly_fields = ("actor", "action", "from_status", "to_status", "note", "created_at")
    can_delete = False


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ("tracking_code", "channel", "kind", "severity", "status", "unit", "received_at")
    list_filter = ("channel", "kind", "severity", "status", "is_enterprise", "is_repeat")
    search_fields = ("tracking_code", "external_id", "content")
    exclude = ("citizen_phone",)
    readonly_fields = ("tracking_code",)
    inlines = [AppealEventInline]
