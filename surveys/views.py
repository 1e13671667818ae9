"""Staff pages of the surveys app and the public QR and survey forms.

Views are thin: permission, form, one service call, a message and a redirect.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from intake.phones import mask, national
from sms.forms import PhoneForm
from units.auth import client_address
from units.errors import Refused
from units.models import Unit
from units.navigation import panels_for
from units.unit_options import bound_unit_field
from units.visibility import RoleRequiredMixin, VisibleMixin

from . import permissions, qr, selectors
from .choices import ReviewStatus, Verdict
from .filters import CallbackFilter, RatingFilter, RatingPointFilter, ServiceRecordFilter
from .forms import (
    CallForm,
    CloseForm,
    QrRatingForm,
    RatingPointForm,
    RecordImportForm,
    RectifyForm,
    ReviewForm,
)
from .models import Callback, Rating, RatingPoint, ReviewItem, ServiceRecord
from .services.callbacks import close_callback, open_rectification, record_call, reveal_callback_phone
from .services.polls import (
    close_survey,
    create_survey,
    draw_sample,
    open_survey,
    sample_from_list,
    submit_survey_response,
)
from .services.qr_ratings import RateLimited, save_rating_point, submit_qr_rating
from .services.qr_ratings import rotate_rating_point as rotate_point
from .services.replies import handle_review_item, rate_from_review

logger = logging.getLogger(__name__)

# Who may do what: ``surveys.permissions`` (the role groups below are its).
CENTER = permissions.WORK_ROLES
CENTER_AND_SUPERVISORS = permissions.READ_ROLES


# --- overview, lists -------------------------------------------------------------------------


class OverviewView(RoleRequiredMixin, TemplateView):
    """回访评价: today's figures, the runs, links to the lists."""

    template_name = "surveys/overview.html"
    allowed_roles = CENTER_AND_SUPERVISORS

    def get_context_data(self, **kwargs):
        ctx = {**super().get_context_data(**kwargs), **selectors.overview(self.request.user)}
        # The rating figures: SURVEY_OVERVIEW_PANELS of the apps that keep them (analytics' day rows).
        ctx["figure_panels"] = [
            {"template": p.template, "context": p.context(self.request) if p.context else {}}
            for p in panels_for("SURVEY_OVERVIEW_PANELS", self.request.user)
        ]
        return ctx


class FilteredListView(VisibleMixin, ListView):
    filterset_class = None
    paginate_by = 50
    paginator_class = selectors.BoundedPaginator

    def get_queryset(self):
        self.filterset = self.filterset_class(self.request.GET or None, queryset=super().get_queryset())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        # A unit filter lists the top of the user's tree and the way down to the chosen unit, not
        # every unit of a province (units/unit_options.py).
        bound_unit_field(self.filterset.form, "unit", units=Unit.objects.visible_to(self.request.user))
        return {**super().get_context_data(**kwargs), "filter": self.filterset}


class RatingListView(FilteredListView):
    model = Rating
    filterset_class = RatingFilter
    template_name = "surveys/rating_list.html"
    allowed_roles = permissions.STAFF_ROLES

    def get_queryset(self):
        return super().get_queryset().select_related("unit", "business_type", "callback", "rating_point")


class RecordListView(FilteredListView):
    model = ServiceRecord
    filterset_class = ServiceRecordFilter
    template_name = "surveys/record_list.html"
    allowed_roles = CENTER_AND_SUPERVISORS

    def get_queryset(self):
        return super().get_queryset().select_related("unit", "business_type")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "import_form": RecordImportForm(),
            "can_import": permissions.may_import_records(self.request.user),
        }


@require_POST
def import_records(request: HttpRequest) -> HttpResponse:
    """CSV/XLSX upload of service records, answered with a row-by-row report."""
    if not permissions.may_import_records(request.user):
        raise PermissionDenied
    form = RecordImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        from .imports import import_file

        try:
            report = import_file(form.cleaned_data["file"], filename=form.cleaned_data["file"].name, actor=request.user)
        except ValueError as exc:
            form.add_error("file", str(exc))
    return render(request, "surveys/import_report.html", {"form": form, "report": report})


# --- the callback desk -----------------------------------------------------------------------


class CallbackDeskView(FilteredListView):
    """人工回访: open callbacks by due time (closed ones through the status filter)."""

    model = Callback
    filterset_class = CallbackFilter
    template_name = "surveys/callback_desk.html"
    allowed_roles = CENTER_AND_SUPERVISORS

    def get_queryset(self):
        qs = super().get_queryset().select_related("unit", "rating", "rating__business_type", "assigned_to")
        if not self.request.GET.get("status"):
            qs = qs.open()
        return qs.order_by("due_at", "id")


class CallbackDetailView(VisibleMixin, DetailView):
    model = Callback
    template_name = "surveys/callback_detail.html"
    allowed_roles = CENTER_AND_SUPERVISORS
    context_object_name = "callback"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("unit", "rating", "rating__sms", "rating__service_record", "rating__business_type")
        )

    def get_context_data(self, **kwargs):
        callback = self.object
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            call_form=kwargs.get("call_form") or CallForm(),
            close_form=kwargs.get("close_form") or CloseForm(),
            rectify_form=kwargs.get("rectify_form") or RectifyForm(),
            failed=kwargs.get("failed", ""),
            events=callback.events.select_related("actor"),
            calls=callback.calls.select_related("actor"),
            **permissions.callback_actions(self.request.user, callback),
            work_order=_work_order(callback),
            # The callback desk the user came from, with its filters and page (a local path only).
            back=_local_path(self.request.GET.get("back") or self.request.POST.get("back")),
            callback_desk_url=reverse("surveys:callback_desk"),
        )
        return ctx

    # action -> (form class, context key of its form, the service call, success message)
    ACTIONS = {
        "call": (CallForm, "call_form", lambda c, u, d: record_call(c, actor=u, **d), _l("已登记本次通话。")),
        "rectify": (
            RectifyForm,
            "rectify_form",
            lambda c, u, d: open_rectification(c, actor=u, note=d.get("note", "")),
            _l("已派发整改工单。"),
        ),
        "close": (
            CloseForm,
            "close_form",
            lambda c, u, d: close_callback(c, actor=u, **d),
            _l("回访已结案。"),
        ),
    }

    def post(self, request, *args, **kwargs):
        """登记通话, 派发整改工单, 结案. A refusal never loses what was typed: the page comes back
        with the form bound, its errors beside the fields and a refusal of the service above it
        (422; for htmx 200 and the form alone is swapped in, as the work-order moves do)."""
        if not permissions.may_work_callback(request.user):
            raise PermissionDenied
        self.object = callback = self.get_object()
        action = request.POST.get("action")
        if action not in self.ACTIONS:
            return HttpResponse(_("未知的操作。"), status=400, content_type="text/plain; charset=utf-8")
        form_class, key, call, ok = self.ACTIONS[action]
        form = form_class(request.POST)
        if form.is_valid():
            try:
                call(callback, request.user, form.cleaned_data)
            except Refused as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
        if form.errors:
            self.object = self.get_object()
            context = self.get_context_data(**{key: form, "failed": action})
            return self.render_to_response(context, status=200 if _is_htmx(request) else 422)
        messages.success(request, ok)
        target = reverse("surveys:callback_detail", args=[callback.pk])
        back = _local_path(request.POST.get("back"))
        if back:
            target = f"{target}?{urlencode({'back': back})}"
        if _is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _local_path(value: str | None) -> str:
    """``value`` if it is a path on this site (the list to go back to), else ""."""
    value = (value or "").strip()[:2000]
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    return value


@require_POST
def reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the citizen's full number on the callback page, for a reason; recorded in the central
    reveal log and on the timeline. 400 with the message, and nothing revealed, without a reason."""
    if not permissions.may_reveal_callback_phone(request.user):
        raise PermissionDenied
    callback = get_object_or_404(Callback.objects.visible_to(request.user).select_related("rating__sms"), pk=pk)
    try:
        phone = reveal_callback_phone(
            callback, actor=request.user, reason=request.POST.get("reason"), ip=client_address(request)
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    response = render(request, "surveys/_revealed_phone.html", {"phone": national(phone)})
    response["Cache-Control"] = "no-store"
    return response


def _work_order(callback: Callback):
    return callback.rectification_order


# --- replies to read, opt-outs, a phone's history --------------------------------------------


class ReviewListView(RoleRequiredMixin, ListView):
    template_name = "surveys/review_list.html"
    allowed_roles = CENTER
    paginate_by = 50

    def get_queryset(self):
        status = self.request.GET.get("status") or ReviewStatus.OPEN
        return ReviewItem.objects.filter(status=status).select_related("inbound", "inbound__matched_sms", "handled_by")

    def post(self, request, *args, **kwargs):
        item = get_object_or_404(ReviewItem, pk=request.POST.get("item"))
        form = ReviewForm(request.POST)
        form.is_valid()
        note = form.cleaned_data.get("note", "")
        verdict = request.POST.get("verdict", "")
        if verdict:
            try:
                rate_from_review(item, verdict=verdict, actor=request.user, note=note)
            except (Refused, ValidationError) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
                return redirect("surveys:reviews")
            messages.success(request, _("已记为评价。"))
        else:
            handle_review_item(item, note=note, actor=request.user)
            messages.success(request, _("已标记为已处理。"))
        return redirect("surveys:reviews")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "verdicts": Verdict.choices}


class PhoneHistoryView(RoleRequiredMixin, TemplateView):
    """Everything sent to and received from one phone. The look-up is logged (personal data)."""

    template_name = "surveys/phone_history.html"
    allowed_roles = permissions.PHONE_HISTORY_ROLES

    def post(self, request, *args, **kwargs):
        form = PhoneForm(request.POST)
        ctx = self.get_context_data(form=form)
        if form.is_valid():
            logger.info("phone history looked up by user %s", request.user.pk)
            ctx["history"] = selectors.phone_history(form.cleaned_data["phone"])
            # The page answers with the number masked and an empty box: the full number typed is
            # not echoed back into the page (a screen, a cache, a shoulder).
            ctx["looked_up"] = mask(form.cleaned_data["phone"])
            ctx["form"] = PhoneForm()
        return self.render_to_response(ctx)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", PhoneForm())
        return super().get_context_data(**kwargs)


# --- QR ratings: the public form --------------------------------------------------------------


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/qr_invalid.html", status=404)


@never_cache
def qr_form(request: HttpRequest, token: str) -> HttpResponse:
    """The mobile rating form a QR code opens. No login; the signed link names the point; the
    device cookie (set on the first visit) keys the rate limit and the folding of repeats."""
    from intake import ratelimit

    point = qr.point_for_token(token)
    if point is None:
        return _invalid_link(request)

    def page(form: QrRatingForm, status: int = 200) -> HttpResponse:
        good, bad = form.tag_groups
        response = render(
            request,
            "surveys/qr_form.html",
            {"form": form, "point": point, "good_tags": good, "bad_tags": bad},
            status=status,
        )
        ratelimit.ensure_device(request, response)
        return response

    if request.method != "POST":
        return page(QrRatingForm())
    form = QrRatingForm(request.POST)
    if not form.is_valid():
        return page(form, 400)
    device = ratelimit.device_of(request)
    if device is None:
        form.add_error(None, _("请先打开评价页面再提交（需要允许浏览器保存 Cookie）。"))
        return page(form, 400)
    data = form.cleaned_data
    try:
        submit_qr_rating(
            point, verdict=data["verdict"], tags=data["tags"], text=data["text"], phone=data["phone"], device_id=device
        )
    except RateLimited as exc:
        form.add_error(None, str(exc))
        return page(form, 429)
    except Refused:
        return _invalid_link(request)
    except ValidationError as exc:
        form.add_error(None, " ".join(exc.messages))
        return page(form, 400)
    request.session["surveys_qr_verdict"] = data["verdict"]
    return redirect("surveys:qr_thanks", token=token)


@never_cache
def qr_thanks(request: HttpRequest, token: str) -> HttpResponse:
    point = qr.point_for_token(token)
    if point is None:
        return _invalid_link(request)
    verdict = request.session.pop("surveys_qr_verdict", "")
    return render(
        request,
        "surveys/qr_thanks.html",
        {
            "point": point,
            "token": token,
            "dissatisfied": verdict == "dissatisfied",
            "fold_hours": settings.SURVEYS_QR_FOLD_HOURS,
        },
    )


# --- QR ratings: rating points for staff -------------------------------------------------------

ALL_STAFF = permissions.STAFF_ROLES


class RatingPointListView(FilteredListView):
    """评价二维码: the rating points a user may see, with a QR preview, per unit."""

    model = RatingPoint
    filterset_class = RatingPointFilter
    template_name = "surveys/rating_point_list.html"
    allowed_roles = ALL_STAFF

    def get_queryset(self):
        return super().get_queryset().select_related("unit", "officer")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for point in ctx["object_list"]:
            point.qr = qr.qr_svg(qr.rating_url(point, self.request), scale=2)
        unit = self.filterset.form.cleaned_data.get("unit") if self.filterset.is_bound else None
        ctx.update(can_edit=permissions.may_edit_rating_points(self.request.user), sheet_unit=unit)
        return ctx


class RatingPointDetailView(VisibleMixin, DetailView):
    model = RatingPoint
    template_name = "surveys/rating_point_detail.html"
    allowed_roles = ALL_STAFF
    context_object_name = "point"

    def get_queryset(self):
        return super().get_queryset().select_related("unit", "officer")

    def get_context_data(self, **kwargs):
        point = self.object
        url = qr.rating_url(point, self.request)
        ratings = Rating.objects.filter(rating_point=point).order_by("-rated_at", "-id")
        return {
            **super().get_context_data(**kwargs),
            "url": url,
            "qr": qr.qr_svg(url, scale=6),
            "ratings": ratings[:20],
            "figures": selectors.point_figures(point),
            "can_edit": permissions.may_edit_rating_points(self.request.user),
        }


def _point_form_units(user):
    from units.models import Unit

    return Unit.objects.visible_to(user).filter(is_active=True)


class RatingPointEditView(RoleRequiredMixin, TemplateView):
    """Create (no pk) or edit a rating point: center staff and administrators."""

    template_name = "surveys/rating_point_form.html"
    allowed_roles = CENTER

    def _point(self):
        pk = self.kwargs.get("pk")
        return get_object_or_404(RatingPoint.objects.visible_to(self.request.user), pk=pk) if pk else None

    def get(self, request, *args, **kwargs):
        point = self._point()
        initial = {"is_active": True, "unit": request.GET.get("unit")}
        if point:
            initial = {
                "unit": point.unit_id,
                "kind": point.kind,
                "name": point.name,
                "officer_code": point.officer_code,
                "is_active": point.is_active,
            }
        form = RatingPointForm(initial=initial, units=_point_form_units(request.user))
        return self.render_to_response({"form": form, "point": point})

    def post(self, request, *args, **kwargs):
        point = self._point()
        form = RatingPointForm(request.POST, units=_point_form_units(request.user))
        if form.is_valid():
            try:
                point = save_rating_point(point, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field_name, errors in exc.message_dict.items():
                    form.add_error(field_name if field_name in form.fields else None, errors)
            else:
                messages.success(request, _("评价点已保存。"))
                return redirect("surveys:rating_point_detail", pk=point.pk)
        return self.render_to_response({"form": form, "point": point}, status=400)


@require_POST
def rotate_rating_point(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace a point's QR code; stickers printed before stop working."""
    if not permissions.may_edit_rating_points(request.user):
        raise PermissionDenied
    point = get_object_or_404(RatingPoint.objects.visible_to(request.user), pk=pk)
    rotate_point(point, actor=request.user)
    messages.success(request, _("已更换二维码，原来打印的二维码已失效，请重新打印张贴。"))
    return redirect("surveys:rating_point_detail", pk=point.pk)


class RatingPointSheetView(RoleRequiredMixin, TemplateView):
    """A printable A4 sheet of stickers: every active point of a unit (and the units below it)
    that the user may see, each with its unit and window name."""

    template_name = "surveys/rating_point_sheet.html"
    allowed_roles = ALL_STAFF

    def get_context_data(self, **kwargs):
        from units.models import Unit

        points = RatingPoint.objects.visible_to(self.request.user).filter(is_active=True).select_related("unit")
        unit = None
        unit_id, point_id = self.request.GET.get("unit", ""), self.request.GET.get("point", "")
        if not (unit_id.isdigit() or not unit_id) or not (point_id.isdigit() or not point_id):
            raise Http404  # ids are numbers; anything else names nothing
        if unit_id:
            unit = get_object_or_404(Unit.objects.visible_to(self.request.user), pk=int(unit_id))
            points = points.filter(unit__path__startswith=unit.path)
        if point_id:
            points = points.filter(pk=int(point_id))
        stickers = [
            {"point": p, "qr": qr.qr_svg(qr.rating_url(p, self.request), scale=4)}
            for p in points.order_by("unit__path", "kind", "name", "id")[:200]
        ]
        return {**super().get_context_data(**kwargs), "unit": unit, "stickers": stickers}


# --- sampling surveys (民调) -----------------------------------------------------------------------


class SurveyListView(RoleRequiredMixin, ListView):
    """民意调查: the center's surveys; center staff create one (with the standard questionnaire)."""

    template_name = "surveys/survey_list.html"
    allowed_roles = CENTER_AND_SUPERVISORS
    paginate_by = 50

    def get_queryset(self):
        from .models import Survey

        # An aggregate query ignores Meta.ordering: order explicitly so pages are stable.
        return (
            Survey.objects.visible_to(self.request.user)
            .annotate(invited=Count("invitations", distinct=True), responded=Count("responses", distinct=True))
            .order_by("-created_at", "-id")
        )

    def get_context_data(self, **kwargs):
        from .forms import SurveyForm

        return {
            **super().get_context_data(**kwargs),
            "form": kwargs.get("form") or SurveyForm(),
            "can_edit": permissions.may_run_surveys(self.request.user),
        }

    def post(self, request, *args, **kwargs):
        from .forms import SurveyForm

        if not permissions.may_run_surveys(request.user):
            raise PermissionDenied
        form = SurveyForm(request.POST)
        if form.is_valid():
            survey = create_survey(actor=request.user, **form.cleaned_data)
            messages.success(request, _("调查已创建，已套用标准问卷；题目可在管理后台调整。"))
            return redirect("surveys:survey_detail", pk=survey.pk)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SurveyDetailView(RoleRequiredMixin, DetailView):
    template_name = "surveys/survey_detail.html"
    allowed_roles = CENTER_AND_SUPERVISORS
    context_object_name = "survey"

    def get_queryset(self):
        from .models import Survey

        return Survey.objects.visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        from .forms import SampleForm, SampleUploadForm

        survey = self.object
        report = selectors.survey_report(survey)
        charts = [
            {"labels": [c["label"] for c in q.get("counts", [])], "values": [c["n"] for c in q.get("counts", [])]}
            for q in report["questions"]
        ]
        return {
            **super().get_context_data(**kwargs),
            "questions": survey.questions.all(),
            "events": survey.events.select_related("actor"),
            "invitations": survey.invitations.select_related("sms", "response").order_by("id")[:100],
            "report": report,
            "charts": charts,
            "sample_form": kwargs.get("sample_form")
            or SampleForm(initial={"source": "enterprises" if survey.kind == "enterprise" else "records"}),
            "upload_form": kwargs.get("upload_form") or SampleUploadForm(),
            "upload_result": kwargs.get("upload_result"),
            "can_edit": permissions.may_run_surveys(self.request.user),
        }

    def post(self, request, *args, **kwargs):
        from .forms import SampleForm, SampleUploadForm

        if not permissions.may_run_surveys(request.user):
            raise PermissionDenied
        self.object = survey = self.get_object()
        action = request.POST.get("action")
        try:
            if action == "sample":
                form = SampleForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(sample_form=form), status=400)
                n = draw_sample(survey, actor=request.user, **form.cleaned_data)
                messages.success(request, _("已抽取%(n)d个号码。") % {"n": n})
            elif action == "upload":
                form = SampleUploadForm(request.POST, request.FILES)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(upload_form=form), status=400)
                result = sample_from_list(survey, lines=form.cleaned_data["file"], actor=request.user)
                self.object.refresh_from_db()
                return self.render_to_response(self.get_context_data(upload_result=result))
            elif action == "open":
                n = open_survey(survey, actor=request.user, base_url=request.build_absolute_uri("/"))
                messages.success(request, _("已安排发送%(n)d条邀请短信。") % {"n": n})
            elif action == "close":
                close_survey(survey, actor=request.user)
                messages.success(request, _("调查已结束。"))
        except Refused as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("surveys:survey_detail", pk=survey.pk)


def _invitation_for(token: str):
    from .models import SurveyInvitation

    return SurveyInvitation.objects.select_related("survey").filter(token=token).first()


@never_cache
def survey_form(request: HttpRequest, token: str) -> HttpResponse:
    """The public questionnaire at a citizen's personal link (no login). One response per link;
    answering again replaces the earlier answers."""
    from .choices import SurveyStatus
    from .forms import survey_answer_form

    invitation = _invitation_for(token)
    if invitation is None:
        return render(request, "surveys/survey_invalid.html", status=404)
    survey = invitation.survey
    if survey.status != SurveyStatus.OPEN:
        return render(request, "surveys/survey_invalid.html", {"closed": True}, status=410)
    questions = list(survey.questions.all())
    existing = getattr(invitation, "response", None)
    if request.method == "POST":
        form = survey_answer_form(questions, request.POST)
        if form.is_valid():
            try:
                submit_survey_response(invitation, answers=form.cleaned_data)
            except Refused:
                return render(request, "surveys/survey_invalid.html", {"closed": True}, status=410)
            except ValidationError as exc:
                for key, errors in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errors)
            else:
                return render(request, "surveys/survey_thanks.html", {"survey": survey})
        return render(request, "surveys/survey_form.html", {"form": form, "survey": survey}, status=400)
    form = survey_answer_form(questions)
    if existing:
        form.initial = dict(existing.answers)
    return render(request, "surveys/survey_form.html", {"form": form, "survey": survey, "answered": bool(existing)})
