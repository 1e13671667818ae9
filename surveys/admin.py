"""Admin: business types are edited here; the rest is read-only history (SMS: ``sms.admin``).
Citizens' phones appear masked only."""

from django.contrib import admin

from units.admin_readonly import ReadOnlyAdminMixin

from .models import BusinessType, Callback, EvaluationRun, RatingPoint, Survey, SurveyQuestion


@admin.register(BusinessType)
class BusinessTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "template", "is_evaluated", "sort_order")
    list_editable = ("is_evaluated", "sort_order")
    list_filter = ("is_evaluated",)


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = ("service_date", "delay_days", "records", "queued", "skipped", "send_after", "window_warning")
    readonly_fields = [f.name for f in EvaluationRun._meta.fields]


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "unit", "status", "due_at", "attempts", "verdict", "rectification_order_id")
    list_filter = ("status", "verdict")


@admin.register(RatingPoint)
class RatingPointAdmin(admin.ModelAdmin):
    """Rating points are managed on /surveys/rating-points/; here for look-ups (read only)."""

    list_display = ("name", "unit", "kind", "officer_code", "is_active", "token_version")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "unit__name", "officer_code")
    readonly_fields = ("unit", "kind", "name", "officer", "officer_code", "is_active", "token_version", "rotated_at")

    def has_add_permission(self, request):
        return False


class SurveyQuestionInline(admin.TabularInline):
    model = SurveyQuestion
    extra = 0
    fields = ("position", "kind", "text", "options", "required")

    def has_change_permission(self, request, obj=None):
        # Questions are fixed once invitations went out: answers refer to them.
        return obj is None or obj.status in ("draft", "sampling")

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """The questionnaire of a survey is edited here while it is a draft or being sampled
    (options of a single-choice question: a JSON list of strings)."""

    list_display = ("title", "kind", "status", "created_at")
    list_filter = ("kind", "status")
    fields = ("title", "kind", "intro", "status")
    readonly_fields = ("status",)
    inlines = [SurveyQuestionInline]
