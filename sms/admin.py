"""Admin of the SMS layer: templates are edited here (with the providers' page and a test
message); the outbox, delivery reports and inbound messages are read-only history. Citizens'
phones appear masked only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from units.admin_readonly import ReadOnlyAdminMixin

from . import permissions
from .choices import SmsProvider
from .models import DeliveryStatusEvent, InboundSms, OptOut, OutboundSms, SmsAttempt, SmsTemplate, StepNotice
from .providers import provider_states, send_test_sms
from .services import requeue_sms


class TestSmsForm(forms.Form):
    provider = forms.ChoiceField(label=_("发送通道"), choices=SmsProvider.choices)
    phone = forms.CharField(label=_("接收手机号"), max_length=20, help_text=_("请填写本人手机号，测试短信会真实发出。"))
    template = forms.ModelChoiceField(
        label=_("短信模板"), queryset=SmsTemplate.objects.filter(is_active=True), to_field_name="code"
    )


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    """Saving runs ``SmsTemplate.clean``: the text must render to one 70-character segment (and
    its longest values must pass the rules of the template's provider). The "短信通道" page shows
    per provider whether it is configured and sends a test message."""

    list_display = ("code", "name", "text", "provider", "provider_template_id", "is_active", "updated_at")
    list_filter = ("is_active", "provider")
    search_fields = ("code", "name", "text")
    change_list_template = "admin/sms/smstemplate/change_list.html"

    def get_urls(self):
        own = [
            path(
                "providers/",
                self.admin_site.admin_view(self.providers_view),
                name="sms_smstemplate_providers",
            )
        ]
        return own + super().get_urls()

    def providers_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = TestSmsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                sms, outcome = send_test_sms(
                    provider=form.cleaned_data["provider"],
                    phone=form.cleaned_data["phone"],
                    template_code=form.cleaned_data["template"].code,
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except Exception as exc:  # noqa: BLE001 - an unconfigured SDK: say so on the page
                form.add_error(None, _("无法通过该通道发送：%(e)s") % {"e": exc})
            else:
                level = messages.SUCCESS if outcome == "sent" else messages.WARNING
                self.message_user(
                    request,
                    _("测试短信#%(id)s：%(outcome)s（状态：%(status)s）%(error)s")
                    % {"id": sms.pk, "outcome": outcome, "status": sms.get_status_display(), "error": sms.last_error},
                    level,
                )
                return redirect("admin:sms_smstemplate_providers")
        context = {
            **self.admin_site.each_context(request),
            "title": _("短信通道"),
            "opts": self.model._meta,
            "states": provider_states(),
            "form": form,
        }
        return TemplateResponse(request, "admin/sms/sms_providers.html", context)


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
class OutboundSmsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
        done = sum(1 for sms in queryset if requeue_sms(sms, actor=request.user))
        self.message_user(request, _("已重新排队 %(n)d 条。") % {"n": done}, messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        # Lets the re-queue action run for whom the outbox's 重新发送 is offered; fields stay read-only.
        return obj is None and permissions.may_requeue(request.user)


@admin.register(DeliveryStatusEvent)
class DeliveryStatusEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("provider_sid", "provider_status", "status", "applied", "received_at")
    list_filter = ("status", "applied")


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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


@admin.register(StepNotice)
class StepNoticeAdmin(admin.ModelAdmin):
    list_display = ("channel", "receipt", "dispatch", "extension", "closure", "platform_informs", "updated_at")
    list_editable = ("receipt", "dispatch", "extension", "closure", "platform_informs")
