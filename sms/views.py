"""Pages and webhooks of the SMS layer: the outbox list and its re-queue action, the opt-out list,
the simulator (development and demos), and Twilio's webhooks. Aliyun's and Tencent's callbacks
are in ``sms.providers.views``."""

from __future__ import annotations

import functools
import logging
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import ListView, TemplateView

from intake.phones import phone_hash
from units.exports import back_to, xlsx_response
from units.pagination import BoundedPaginator
from units.visibility import RoleRequiredMixin, VisibleMixin

from . import permissions, selectors, services
from .backends import OutboxBackend, get_backend
from .exports import SMS_COLUMNS
from .filters import OutboundSmsFilter
from .forms import PhoneForm, ReplyForm
from .inbound import receive_inbound
from .models import OptOut, OutboundSms
from .outbox import apply_delivery_status, send_one

logger = logging.getLogger(__name__)


# --- Twilio webhooks -------------------------------------------------------------------------


def _twilio_signature_ok(request: HttpRequest) -> bool:
    """Twilio signs the public URL it called plus the POST parameters with the auth token."""
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not token or not signature:
        return False
    if settings.PUBLIC_BASE_URL:
        url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    else:
        url = request.build_absolute_uri()
    return RequestValidator(token).validate(url, request.POST, signature)


def _twilio_webhook(view):
    """A webhook Twilio calls: a POST without a CSRF token, refused (403) unless Twilio signed it."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        if not _twilio_signature_ok(request):
            return HttpResponseForbidden("invalid signature")
        return view(request)

    return checked


def _message_sid(request: HttpRequest) -> str:
    """The message a Twilio webhook is about (older accounts send SmsSid)."""
    return request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@_twilio_webhook
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """A citizen's reply. Stored (once per MessageSid) and committed before we answer."""
    sid = _message_sid(request)
    if not sid:
        return HttpResponse("missing MessageSid", status=400)
    receive_inbound(
        provider="twilio", message_id=sid, phone=request.POST.get("From", ""), body=request.POST.get("Body", "")
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@_twilio_webhook
def twilio_status(request: HttpRequest) -> HttpResponse:
    """A delivery status report: recorded once, applied only when it moves the SMS forward."""
    sid = _message_sid(request)
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or ""
    if not sid or not status:
        return HttpResponse("missing MessageSid or MessageStatus", status=400)
    apply_delivery_status(provider_sid=sid, provider_status=status, error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)


# --- the outbox --------------------------------------------------------------------------------


class OutboxView(VisibleMixin, ListView):
    """外发短信: every outbound SMS with its status, attempts and last error."""

    model = OutboundSms
    template_name = "sms/outbox.html"
    allowed_roles = permissions.OUTBOX_ROLES
    paginate_by = 50
    paginator_class = BoundedPaginator

    def get_queryset(self):
        self.filterset = OutboundSmsFilter(self.request.GET or None, queryset=super().get_queryset())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        # 重新发送 on a row: ``permissions.may_requeue(user, sms)`` (the role here, the flag per row).
        return {
            **super().get_context_data(**kwargs),
            "filter": self.filterset,
            "can_requeue": permissions.may_requeue(self.request.user),
        }


class OutboxExportView(OutboxView):
    """The outbox as it is filtered, to XLSX (phones masked)."""

    def get(self, request, *args, **kwargs):
        return xlsx_response(
            request,
            self.get_queryset(),
            SMS_COLUMNS,
            sheet=_("短信发件箱"),
            filename="sms-outbox",
            back=back_to(reverse("sms:outbox"), request),
        )


@require_POST
def requeue_sms(request: HttpRequest, pk: int) -> HttpResponse:
    """Administrators: after checking with the provider, queue a flagged SMS again."""
    if not permissions.may_requeue(request.user):
        raise PermissionDenied
    sms = get_object_or_404(OutboundSms, pk=pk)
    if services.requeue_sms(sms, actor=request.user):
        messages.success(request, _("已重新排队发送。"))
    else:
        messages.error(request, _("该短信不是待核对状态，未重新排队。"))
    return redirect(reverse("sms:outbox") + "?needs_reconciliation=true")


# --- the opt-out list --------------------------------------------------------------------------


class OptOutListView(RoleRequiredMixin, ListView):
    """退订名单 (administrators): list, add by hand, lift."""

    template_name = "sms/optout_list.html"
    allowed_roles = permissions.ADMIN_ROLES
    paginate_by = 50
    queryset = OptOut.objects.all()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "form": kwargs.get("form") or PhoneForm()}

    def post(self, request, *args, **kwargs):
        if request.POST.get("remove"):
            services.lift_opt_out(get_object_or_404(OptOut, pk=request.POST["remove"]), actor=request.user)
            messages.success(request, _("已解除退订。"))
            return redirect("sms:optouts")
        form = PhoneForm(request.POST)
        if not form.is_valid():
            self.object_list = self.get_queryset()
            return self.render_to_response(self.get_context_data(form=form))
        services.opt_out(
            phone=form.cleaned_data["phone"], source="staff", actor=request.user, note=form.cleaned_data["note"]
        )
        messages.success(request, _("已加入退订名单。"))
        return redirect("sms:optouts")


# --- the SMS simulator -----------------------------------------------------------------------


def simulator_allowed() -> bool:
    # Never on by DEBUG alone: the page answers SMS as any citizen (ratings, callbacks).
    return bool(settings.SMS_SIMULATOR_ENABLED) and get_backend().is_outbox


class SimulatorView(RoleRequiredMixin, TemplateView):
    """Demo and development only: what was "sent" to each phone with each message's state and why,
    a box to answer as the citizen, and "立即发送（演示）" for a message still waiting.

    Administrators only (GET and POST): a reply here is a rating of any unit. Numbers are masked
    like on every other page and never in a URL: a search by number redirects to the keyed hash.
    """

    template_name = "sms/simulator.html"
    allowed_roles = permissions.ADMIN_ROLES

    def dispatch(self, request, *args, **kwargs):
        if not simulator_allowed():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        digest = self.request.GET.get("p", "")[:64]
        page = selectors.simulator_page(
            page=self.request.GET.get("page"), phone_hash=digest, base_url=self.request.build_absolute_uri("/")
        )
        return {
            **super().get_context_data(**kwargs),
            **page,
            "search_form": kwargs.get("search_form") or PhoneForm(),
            "searching": bool(digest),
        }

    def post(self, request, *args, **kwargs):
        if "search" in request.POST:
            return self._search(request)
        if "send_now" in request.POST:
            return self._send_now(request)
        form = ReplyForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请填写回复内容。"))
            return redirect(self._back(request))
        sms = get_object_or_404(OutboundSms, pk=form.cleaned_data["phone_ref"])
        inbound, _created = receive_inbound(
            provider="simulator", message_id=f"SIM{uuid.uuid4().hex}", phone=sms.phone, body=form.cleaned_data["body"]
        )
        messages.success(request, _("已模拟群众回复：%(r)s") % {"r": inbound.get_outcome_display()})
        return redirect(self._back(request))

    def _search(self, request):
        form = PhoneForm({"phone": request.POST.get("phone", "")})
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(search_form=form))
        return redirect(reverse("sms:simulator") + "?p=" + phone_hash(form.cleaned_data["phone"]))

    def _send_now(self, request):
        """One queued message through the outbox now, whatever its time, hours or pace (demo)."""
        sms = get_object_or_404(OutboundSms, pk=request.POST.get("send_now") or 0)
        outcome, _wait = send_one(sms.pk, backend=OutboxBackend(), respect_hours=False, paced=False)
        if outcome == "sent":
            messages.success(request, _("短信#%(id)s 已通过模拟通道发出。") % {"id": sms.pk})
        else:
            messages.error(request, _("短信#%(id)s 不是待发送状态，未发送。") % {"id": sms.pk})
        logger.info("SMS %s sent now from the simulator by user %s: %s", sms.pk, request.user.pk, outcome)
        return redirect(self._back(request))

    @staticmethod
    def _back(request) -> str:
        """The simulator page the form was posted from (search and page kept)."""
        posted = QueryDict(request.POST.get("back", ""))
        keep = {key: posted[key] for key in ("p", "page") if posted.get(key)}
        return reverse("sms:simulator") + (f"?{urlencode(keep)}" if keep else "")
