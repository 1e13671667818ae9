"""Admin: SMS templates and business types are edited here; the rest is read-only history.
Citizens' phones appear masked only."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import (
    BusinessType,
    Callback,
    DeliveryStatusEvent,
    EvaluationRun,
    InboundSms,
    OptOut,
    OutboundSms,
    RatingPoint,
    SmsAttempt,
    SmsTemplate,
    Survey,
    SurveyQuestion,
)


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    """Saving runs ``SmsTemplate.clean``: the text must render to one 70-character segment."""

    list_display = ("code", "name", "text", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "text")


@admin.register(BusinessType)
class BusinessTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "template", "is_evaluated", "sort_order")
    list_editable = ("is_evaluated", "sort_order")
    list_filter = ("is_evaluated",)


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = ("service_date", "delay_days", "records", "queued", "skipped", "send_after", "window_warning")
    readonly_fields = [f.name for f in EvaluationRun._meta.fields]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SmsAttemptInline(admin.TabularInline):
    model = SmsAttempt
    extra = 0
    can_delete = False
    readonly_fields = (
        "number",
        "backend",
        "started_at",
        "finished_at",
        "outcome",
        "provider_sid",
        "error_code",
        "error_message",
    )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboundSms)
class OutboundSmsAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "masked_phone",
        "purpose",
        "template_code",
        "status",
        "attempts",
        "needs_reconciliation",
        "created_at",
    )
    list_filter = ("status", "purpose", "needs_reconciliation", "backend")
    search_fields = ("provider_sid", "template_code")
    exclude = ("phone", "phone_hash")
    inlines = [SmsAttemptInline]
    actions = ["requeue_after_check"]

    @admin.action(description=_("已向服务商核实未发出：重新排队发送"))
    def requeue_after_check(self, request, queryset):
        from .services import requeue_sms

        done = sum(1 for sms in queryset if requeue_sms(sms, actor=request.user))
        self.message_user(request, _("已重新排队 %(n)d 条。") % {"n": done}, messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_superuser  # lets the action run; the fields stay read-only


@admin.register(DeliveryStatusEvent)
class DeliveryStatusEventAdmin(ReadOnlyAdmin):
    list_display = ("provider_sid", "provider_status", "status", "applied", "received_at")
    list_filter = ("status", "applied")


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyAdmin):
    list_display = ("id", "provider", "masked_phone", "body", "outcome", "received_at")
    list_filter = ("provider", "outcome")
    exclude = ("phone", "phone_hash")


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("masked_phone", "source", "note", "created_at")
    list_filter = ("source",)
    exclude = ("phone", "phone_hash")

    def has_add_permission(self, request):
        return False  # added from the opt-out page, which normalises and hashes the number


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
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
