from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from units.admin_readonly import ReadOnlyAdminMixin

from . import permissions
from .models import DeliveryAttempt, FeedSource, ImportBatch, ImportRowError, Open311Request, ResultDelivery
from .services import generate_source_key


def _show_key_once(request, source: FeedSource, key: str) -> None:
    messages.warning(
        request,
        format_html(
            _("“{}”的新密钥（只显示这一次，请立即复制给对接平台）：<code>{}</code>"),
            source.name,
            key,
        ),
    )


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "channel", "key_prefix_display", "signed", "result_url", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("key_prefix_display", "key_created_at", "created_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "channel", "is_active")}),
        (_("推送密钥"), {"fields": ("key_prefix_display", "key_created_at", "hmac_secret", "require_timestamp")}),
        (_("结果回传"), {"fields": ("result_url", "result_secret")}),
    )
    actions = ["generate_new_key"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "result_url":
            kwargs["assume_scheme"] = "https"  # a platform address typed without a scheme
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("密钥前缀"))
    def key_prefix_display(self, obj: FeedSource) -> str:
        return f"{obj.key_prefix}…" if obj.key_prefix else "—"

    @admin.display(description=_("签名"), boolean=True)
    def signed(self, obj: FeedSource) -> bool:
        return bool(obj.hmac_secret)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not permissions.may_manage_source_keys(request.user):
            actions.pop("generate_new_key", None)
        return actions

    def has_add_permission(self, request):
        # A new source is issued its key on saving: who may not issue keys adds none.
        return super().has_add_permission(request) and permissions.may_manage_source_keys(request.user)

    @admin.action(description=_("生成新密钥（旧密钥立即失效）"))
    def generate_new_key(self, request, queryset):
        for source in queryset:
            _show_key_once(request, source, generate_source_key(source, actor=request.user))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not obj.key_hash:
            _show_key_once(request, obj, generate_source_key(obj, actor=request.user))


class ImportRowErrorInline(admin.TabularInline):
    model = ImportRowError
    extra = 0
    can_delete = False
    readonly_fields = ("row_number", "field", "reason", "raw")
    max_num = 0


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "kind", "source", "filename", "status", "total_rows", "created", "rejected")
    list_filter = ("status", "kind", "source")
    readonly_fields = [f.name for f in ImportBatch._meta.fields]
    inlines = [ImportRowErrorInline]

    def has_add_permission(self, request):
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "started_at", "http_status", "response_excerpt", "error", "duration_ms")
    max_num = 0


@admin.register(ResultDelivery)
class ResultDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "source", "appeal", "sequence", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "source")
    readonly_fields = [f.name for f in ResultDelivery._meta.fields]
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False


@admin.register(Open311Request)
class Open311RequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What an Open311 client posted beside the appeal; read only (the appeal is handled on the desk)."""

    list_display = ("appeal", "client", "address_string", "lat", "long", "created_at")
    list_filter = ("client",)
    search_fields = ("appeal__tracking_code", "token")
    readonly_fields = ("appeal", "client", "token", "lat", "long", "address_string", "address_id", "created_at")
