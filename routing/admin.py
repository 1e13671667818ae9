from django.contrib import admin

from .models import AutoDispatchSetting, DispatchChoice, TrainedModel


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ("version", "status", "started_at", "train_rows", "test_rows", "unit_top1", "rules_unit_top1")
    list_filter = ("status",)
    exclude = ("artefact",)
    readonly_fields = [f.name for f in TrainedModel._meta.fields if f.name != "artefact"]

    def has_add_permission(self, request):
        return False  # a model comes from a training run, never from a form


@admin.register(DispatchChoice)
class DispatchChoiceAdmin(admin.ModelAdmin):
    list_display = (
        "order",
        "chosen_unit",
        "model_unit",
        "model_confidence",
        "rule_unit",
        "followed",
        "automatic",
        "created_at",
    )
    list_filter = ("followed", "automatic")
    raw_id_fields = ("order", "appeal")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AutoDispatchSetting)
class AutoDispatchSettingAdmin(admin.ModelAdmin):
    list_display = ("category", "is_enabled", "threshold", "updated_at")
