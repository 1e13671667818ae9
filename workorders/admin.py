from django.contrib import admin

from units.admin_readonly import ReadOnlyInline

from .models import (
    CalendarDay,
    CategoryRule,
    Consultation,
    JurisdictionRule,
    ReplyTemplate,
    SeverityPolicy,
    SupervisionRule,
    WorkOrder,
    WorkOrderEvent,
)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name", "source"]
    list_filter = ["is_workday", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        # An administrator's entry is never overwritten by a later seed.
        obj.source = "admin"
        super().save_model(request, obj, form, change)


@admin.register(SeverityPolicy)
class SeverityPolicyAdmin(admin.ModelAdmin):
    list_display = ["severity", "sign_within_minutes", "feedback_within_hours", "feedback_within_working_days"]


@admin.register(CategoryRule)
class CategoryRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "unit", "is_active"]
    list_filter = ["is_active"]
    autocomplete_fields = []


@admin.register(JurisdictionRule)
class JurisdictionRuleAdmin(admin.ModelAdmin):
    list_display = ["pattern", "kind", "unit", "priority", "is_active"]
    list_filter = ["kind", "is_active", "unit"]
    search_fields = ["pattern"]


@admin.register(SupervisionRule)
class SupervisionRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "params", "is_active"]
    list_filter = ["kind", "is_active"]


class EventInline(ReadOnlyInline):
    """The timeline is the record of the order: never added to, edited or deleted here."""

    model = WorkOrderEvent
    readonly_fields = ["created_at", "actor", "action", "from_status", "to_status", "note", "data"]


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    """Read-only: statuses change only through the services (the staff pages and the API)."""

    list_display = ["number", "unit", "status", "severity", "due_at", "is_overdue", "is_listed"]
    list_filter = ["status", "severity", "is_overdue", "is_listed"]
    search_fields = ["number", "appeal__tracking_code"]
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["topic", "order", "held_on"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """答复模板: the public reply a close starts from, per category (none = the default)."""

    list_display = ["__str__", "text", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["text", "category__name"]
