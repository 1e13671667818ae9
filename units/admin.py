from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Unit, User


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


admin.site.site_header = _("民意感知中心 · 系统管理")
admin.site.site_title = _("民意感知中心")
admin.site.index_title = _("系统管理")
