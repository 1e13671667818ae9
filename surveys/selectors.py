"""Reads of the surveys app: the desk, the overview figures, the simulator, a phone's history."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from intake.phones import phone_hash
from sms.choices import SmsPurpose, SmsStatus
from sms.models import InboundSms, OptOut, OutboundSms
from units.pagination import LIST_COUNT_CAP, BoundedPaginator  # noqa: F401 - the lists of this app page with it

from .choices import ReviewStatus, Verdict
from .models import Callback, EvaluationRun, Rating, ReviewItem


def callbacks_for_desk(user):
    """Open callbacks, soonest due first (the desk's order)."""
    return (
        Callback.objects.visible_to(user)
        .open()
        .select_related("unit", "rating", "rating__business_type", "rating__sms", "assigned_to")
        .order_by("due_at", "id")
    )


def _verdict_counts() -> dict[str, Count]:
    """The ratings and each verdict's count, for ``aggregate`` or ``annotate``."""
    return {
        "total": Count("id"),
        "satisfied": Count("id", filter=Q(verdict=Verdict.SATISFIED)),
        "basic": Count("id", filter=Q(verdict=Verdict.BASIC)),
        "dissatisfied": Count("id", filter=Q(verdict=Verdict.DISSATISFIED)),
        "declined": Count("id", filter=Q(verdict=Verdict.DECLINED)),
    }


def with_rate(counts: dict[str, Any]) -> dict[str, Any]:
    """The counts with the satisfaction rate in per cent (basic counts as satisfied; a declined
    answer is no verdict); None without any verdict."""
    with_verdict = counts["total"] - counts["declined"]
    rate = round(100 * (counts["satisfied"] + counts["basic"]) / with_verdict, 1) if with_verdict else None
    return {**counts, "rate": rate}


def sms_figures(user, *, since: dt.datetime) -> dict[str, int]:
    """Evaluation SMS created since a moment (the overview's "今日回访短信"): one count on the
    ``created_at`` index of a day's rows."""
    qs = OutboundSms.objects.visible_to(user).filter(purpose=SmsPurpose.EVALUATION, created_at__gte=since)
    return {"total": qs.count()}


def overview(user) -> dict[str, Any]:
    """The overview's own figures: today's evaluation SMS, the callbacks and reviews waiting, the
    runs. Its rating figures come from the apps that keep them (``SURVEY_OVERVIEW_PANELS``): a
    province's 30 days are millions of ratings, never read on a page."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "sms_today": sms_figures(user, since=today),
        "runs": EvaluationRun.objects.all()[:10],
        "open_callbacks": Callback.objects.visible_to(user).open().count(),
        "overdue_callbacks": Callback.objects.visible_to(user).open().filter(due_at__lt=timezone.now()).count(),
        "open_reviews": ReviewItem.objects.filter(status=ReviewStatus.OPEN).count(),
        "flagged_sms": OutboundSms.objects.filter(status=SmsStatus.SENDING, needs_reconciliation=True).count(),
    }


def phone_history(raw_phone: str) -> dict[str, Any]:
    """Everything sent to and received from one phone (administrators only)."""
    digest = phone_hash(raw_phone)
    return {
        "sms": OutboundSms.objects.filter(phone_hash=digest).select_related("service_record")[:200],
        "inbound": InboundSms.objects.filter(phone_hash=digest)[:200],
        "ratings": Rating.objects.filter(phone_hash=digest).select_related("unit", "business_type")[:200],
        "opted_out": OptOut.objects.filter(phone_hash=digest).first(),
    }


def callbacks_due_panel(request) -> dict[str, Any]:
    qs = callbacks_for_desk(request.user)
    now = timezone.now()
    # The panel's lines show the due time, the unit and the rating's words: not the numbers (a
    # decryption each) nor the SMS, business type and assignee the desk's rows show.
    lines = qs.select_related(None).select_related("unit", "rating").defer("rating__phone")
    return {
        "items": list(lines[:8]),
        "open": qs.count(),
        "overdue": qs.filter(due_at__lt=now).count(),
        "now": now,
    }


def point_figures(point) -> dict[str, Any]:
    """Verdict counts of one rating point over all time and the last 30 days."""
    since = timezone.now() - dt.timedelta(days=30)
    qs = Rating.objects.filter(rating_point=point)
    return qs.aggregate(
        total=Count("id"),
        month=Count("id", filter=Q(rated_at__gte=since)),
        satisfied=Count("id", filter=Q(verdict=Verdict.SATISFIED)),
        basic=Count("id", filter=Q(verdict=Verdict.BASIC)),
        dissatisfied=Count("id", filter=Q(verdict=Verdict.DISSATISFIED)),
    )


def survey_report(survey) -> dict[str, Any]:
    """The figures of one survey: invited, SMS delivered, responded, the response rate (answers /
    invitations), and per question the count of each option (scales also their mean) or the
    latest text answers."""
    from .choices import QuestionKind
    from .models import SurveyInvitation, SurveyResponse

    invitations = SurveyInvitation.objects.filter(survey=survey)
    invited = invitations.count()
    delivered = invitations.filter(sms__status=SmsStatus.DELIVERED).count()
    sent = invitations.filter(sms__status__in=[SmsStatus.SENT, SmsStatus.DELIVERED]).count()
    answers = list(
        SurveyResponse.objects.filter(survey=survey).order_by("-submitted_at").values_list("answers", flat=True)
    )
    responded = len(answers)
    questions = []
    for question in survey.questions.all():
        key = str(question.pk)
        values = [a[key] for a in answers if a.get(key)]
        item: dict[str, Any] = {"question": question, "answered": len(values)}
        if question.kind == QuestionKind.TEXT:
            item["texts"] = values[:50]
        else:
            counts = Counter(values)
            item["counts"] = [{"label": option, "n": counts.get(option, 0)} for option in question.choices]
            if question.kind == QuestionKind.SCALE and values:
                item["mean"] = round(sum(int(v) for v in values) / len(values), 2)
        questions.append(item)
    return {
        "invited": invited,
        "sent": sent,
        "delivered": delivered,
        "responded": responded,
        "rate": round(100 * responded / invited, 1) if invited else None,
        "questions": questions,
    }


def qr_panel(request) -> dict[str, Any]:
    """Unit users' home: QR ratings of their units over 7 days and the latest bad reviews."""
    from .choices import RatingSource

    since = timezone.now() - dt.timedelta(days=7)
    qs = Rating.objects.visible_to(request.user).filter(source=RatingSource.QR, rated_at__gte=since)
    figures = qs.aggregate(
        total=Count("id"),
        satisfied=Count("id", filter=Q(verdict__in=[Verdict.SATISFIED, Verdict.BASIC])),
        dissatisfied=Count("id", filter=Q(verdict=Verdict.DISSATISFIED)),
    )
    bad = list(qs.filter(verdict=Verdict.DISSATISFIED).select_related("rating_point", "unit")[:5])
    return {**figures, "bad": bad}
