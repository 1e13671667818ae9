from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from units.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline

from .models import Appeal, AppealEvent, Attachment, Category, PhoneReveal, RiskWord


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent", "default_severity", "is_active", "sort_order")
    list_filter = ("default_severity", "is_active")
    search_fields = ("name", "code")


@admin.register(RiskWord)
class RiskWordAdmin(admin.ModelAdmin):
    list_display = ("word", "note", "is_active")
    list_filter = ("is_active",)
    search_fields = ("word",)


class AppealEventInline(ReadOnlyInline):
    """The timeline, shown read only: its rows are the record of what happened (no add, no edit)."""

    model = AppealEvent
    fields = readonly_fields = ("actor", "action", "from_status", "to_status", "note", "created_at")


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    readonly_fields = ("type", "original_name", "size", "created_at")


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    """Appeals in the admin: the phone is never shown here (reveal it on the appeal page, logged)."""

    list_display = ("tracking_code", "channel", "kind", "severity", "status", "unit", "masked", "received_at")
    list_filter = ("channel", "kind", "severity", "status", "is_enterprise", "is_repeat")
    search_fields = ("tracking_code", "external_id", "content")
    exclude = ("citizen_phone",)
    readonly_fields = ("tracking_code", "citizen_phone_hash", "status", "repeat_of", "merged_into")
    raw_id_fields = ("repeat_of", "merged_into")
    inlines = [AttachmentInline, AppealEventInline]

    @admin.display(description=_("联系电话"))
    def masked(self, obj: Appeal) -> str:
        return obj.masked_phone


@admin.register(PhoneReveal)
class PhoneRevealAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The reveal log is evidence: read only, never added, edited or deleted from the admin, not
    even by a superuser (the permission checks below answer no whatever the user's rights)."""

    list_display = ("created_at", "user", "object_type", "object_label", "reason", "ip")
    list_filter = ("object_type", "created_at")
    search_fields = ("user__username", "object_label", "reason")
    readonly_fields = ("created_at", "user", "object_type", "object_id", "object_label", "appeal", "reason", "ip")
    actions = None
