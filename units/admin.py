from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_readonly import ReadOnlyAdminMixin
from .models import ApiToken, LoginLockout, Unit, User


def _apply_to_each(model_admin, request, queryset, service, *, logged, done) -> None:
    """An admin action: ``service(row, actor=…)`` on each selected row; each row it changed is
    logged in the admin's history (``logged``), and the count is reported (``done`` with ``%(n)d``)."""
    changed = 0
    for row in queryset:
        if service(row, actor=request.user):
            changed += 1
            model_admin.log_change(request, row, logged)
    model_admin.message_user(request, done % {"n": changed}, messages.SUCCESS)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "tier", "parent", "is_active")
    list_filter = ("tier", "is_active")
    search_fields = ("name", "code", "short_name")
    autocomplete_fields = ("parent",)
    ordering = ("path",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "unit", "is_active")
    list_filter = ("role", "is_active", "unit__tier")
    search_fields = ("username", "first_name", "last_name", "police_number")
    autocomplete_fields = ("unit",)
    fieldsets = BaseUserAdmin.fieldsets + ((_("单位与角色"), {"fields": ("unit", "role", "mobile", "police_number")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("单位与角色"), {"fields": ("unit", "role")}),)


@admin.register(LoginLockout)
class LoginLockoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Locks after repeated login failures: read-only audit rows (the trail of lockouts and
    releases); administrators release them early with the action below, done by the service."""

    list_display = ("key", "scope", "failures", "locked_at", "locked_until", "unlocked_at", "unlocked_by")
    list_filter = ("scope", ("unlocked_at", admin.EmptyFieldListFilter))
    search_fields = ("key",)
    date_hierarchy = "locked_at"
    actions = ["unlock"]
    readonly_fields = [f.name for f in LoginLockout._meta.fields]

    def has_unlock_permission(self, request) -> bool:
        return request.user.is_active and (
            request.user.is_superuser or request.user.has_perm("units.change_loginlockout")
        )

    @admin.action(description=_("解除所选锁定"), permissions=["unlock"])
    def unlock(self, request, queryset):
        _apply_to_each(
            self, request, queryset, services.unlock_lockout, logged=_("解除登录锁定"), done=_("已解除 %(n)d 项锁定。")
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Issued API tokens (never their keys); administrators revoke them."""

    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at", "revoked_by")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "prefix")
    list_select_related = ("user", "revoked_by")
    actions = ["revoke"]
    readonly_fields = ("user", "prefix", "created_at", "expires_at", "revoked_at", "revoked_by")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("撤销所选令牌"), permissions=["change"])
    def revoke(self, request, queryset):
        _apply_to_each(
            self,
            request,
            queryset,
            services.revoke_api_token,
            logged=_("撤销 API 令牌"),
            done=_("已撤销 %(n)d 个令牌。"),
        )


admin.site.site_header = _("民意感知中心 · 系统管理")
admin.site.site_title = _("民意感知中心")
admin.site.index_title = _("系统管理")
