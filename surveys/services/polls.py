"""Sampling surveys (民调): questionnaires, samples, SMS invitations, answers."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.phones import normalize_phone, phone_hash
from sms.choices import SmsPurpose
from sms.models import OptOut
from sms.services import queue_sms
from sms.texts import next_sending_time, window_end
from units.errors import Refused
from units.models import User
from units.transitions import move_by_table

from .. import permissions
from ..choices import (
    QuestionKind,
    SampleSource,
    SurveyKind,
    SurveyStatus,
)
from ..models import (
    ServiceRecord,
    Survey,
    SurveyEvent,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)

logger = logging.getLogger(__name__)


# --- sampling surveys (民调) ---------------------------------------------------------------------

SURVEY_MOVES: dict[str, set[str]] = {
    SurveyStatus.DRAFT: {SurveyStatus.SAMPLING},
    SurveyStatus.SAMPLING: {SurveyStatus.SAMPLING, SurveyStatus.OPEN, SurveyStatus.CLOSED},
    SurveyStatus.OPEN: {SurveyStatus.CLOSED},
    SurveyStatus.CLOSED: set(),
}


def default_questions(kind: str) -> list[dict[str, Any]]:
    """The standard questionnaire: sense of security, satisfaction with the police, suggestions
    (an enterprise survey asks about the business environment instead of home)."""
    if kind == SurveyKind.ENTERPRISE:
        first = _("您认为本地公安机关营造的营商治安环境如何？")
    else:
        first = _("您在居住地的安全感如何？")
    return [
        {
            "kind": QuestionKind.SINGLE,
            "text": first,
            "options": [_("很安全"), _("比较安全"), _("一般"), _("不太安全"), _("很不安全")],
        },
        {"kind": QuestionKind.SCALE, "text": _("您对公安民警工作的总体满意程度（5分最满意）"), "options": []},
        {
            "kind": QuestionKind.SINGLE,
            "text": _("过去一年您接触公安机关时，民警的服务态度如何？"),
            "options": [_("满意"), _("基本满意"), _("不满意"), _("没有接触过")],
        },
        {"kind": QuestionKind.TEXT, "text": _("您对公安工作有什么意见和建议？"), "options": [], "required": False},
    ]


def create_survey(
    *, title: str, kind: str, actor: User, intro: str = "", questions: list[dict[str, Any]] | None = None
) -> Survey:
    """A draft survey with its questions (the standard questionnaire when none are given)."""
    if not permissions.may_run_surveys(actor):
        raise PermissionDenied
    if kind not in SurveyKind.values:
        raise ValidationError({"kind": _("未知的调查类型。")})
    if not (title or "").strip():
        raise ValidationError({"title": _("请填写调查名称。")})
    with transaction.atomic():
        survey = Survey.objects.create(title=title.strip()[:100], kind=kind, intro=intro[:300], created_by=actor)
        for position, q in enumerate(questions or default_questions(kind), start=1):
            if q.get("kind") not in QuestionKind.values:
                raise ValidationError({"questions": _("未知的题型。")})
            if q["kind"] == QuestionKind.SINGLE and len(q.get("options") or []) < 2:
                raise ValidationError({"questions": _("单选题至少需要两个选项。")})
            SurveyQuestion.objects.create(
                survey=survey,
                position=position,
                kind=q["kind"],
                text=str(q["text"])[:200],
                options=[str(o) for o in q.get("options") or []],
                required=q.get("required", True),
            )
        SurveyEvent.objects.create(survey=survey, actor=actor, action="create", to_status=survey.status)
    return survey


def _survey_transition(
    survey: Survey, *, to: str, actor: User | None, action: str, note: str = "", **changes: Any
) -> Survey:
    """One move of the survey allowed by ``SURVEY_MOVES`` (``units.transitions.move_by_table``)."""
    return move_by_table(
        survey,
        SURVEY_MOVES,
        to=to,
        actor=actor,
        action=action,
        refusal=_("调查当前状态为“%(s)s”，不能执行此操作。"),
        note=note[:300],
        **changes,
    )


def _new_token() -> str:
    from django.utils.crypto import get_random_string

    return get_random_string(10, allowed_chars="abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def _add_invitations(survey: Survey, phones: dict[str, str], *, source: str) -> int:
    """Insert one invitation per (hash → E.164) not yet in the survey. Returns how many were new."""
    present = set(SurveyInvitation.objects.filter(survey=survey).values_list("phone_hash", flat=True))
    new = [
        SurveyInvitation(survey=survey, phone=e164, phone_hash=digest, token=_new_token(), source=source)
        for digest, e164 in phones.items()
        if digest not in present
    ]
    SurveyInvitation.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return len(new)


def draw_sample(
    survey: Survey,
    *,
    size: int,
    actor: User,
    source: str = SampleSource.RECORDS,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> int:
    """Draw ``size`` random distinct phones into the survey: from the service records of a period
    (public surveys) or from the enterprise appeals of the period (便企 contacts), leaving out
    opted-out phones and phones already in the sample. Drawing again adds to the sample.
    Returns how many phones were added."""
    if not permissions.may_run_surveys(actor):
        raise PermissionDenied
    from intake.models import Appeal

    if size < 1 or size > 10000:
        raise ValidationError({"size": _("样本量应为1至10000。")})
    if period_from and period_to and period_from > period_to:
        raise ValidationError({"period_from": _("开始日期不能晚于结束日期。")})
    if source == SampleSource.RECORDS:
        rows = ServiceRecord.objects.all()
        date_field, hash_field, phone_field = "served_at__date", "citizen_phone_hash", "citizen_phone"
    elif source == SampleSource.ENTERPRISES:
        rows = Appeal.objects.filter(is_enterprise=True).exclude(citizen_phone_hash="")
        date_field, hash_field, phone_field = "received_at__date", "citizen_phone_hash", "citizen_phone"
    else:
        raise ValidationError({"source": _("未知的样本来源。")})
    if period_from:
        rows = rows.filter(**{f"{date_field}__gte": period_from})
    if period_to:
        rows = rows.filter(**{f"{date_field}__lte": period_to})
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status not in (SurveyStatus.DRAFT, SurveyStatus.SAMPLING):
            raise Refused(_("邀请短信已发出，不能再抽样。"))
        # One row per distinct phone (by its hash), opted-out and already invited phones left out,
        # drawn in the database (ORDER BY random() LIMIT n) so a month of a province's records
        # never travels to Python.
        pool = (
            rows.exclude(Exists(OptOut.objects.filter(phone_hash=OuterRef(hash_field))))
            .exclude(Exists(SurveyInvitation.objects.filter(survey=locked, phone_hash=OuterRef(hash_field))))
            .values(hash_field)
            .annotate(any_phone=Max(phone_field))
        )
        available = pool.count()
        phones = {row[hash_field]: row["any_phone"] for row in pool.order_by("?")[:size]}
        added = _add_invitations(locked, phones, source=source)
        _survey_transition(
            locked,
            to=SurveyStatus.SAMPLING,
            actor=actor,
            action="sample",
            note=_("从%(s)s抽取%(n)d个号码（可抽%(p)d个）")
            % {"s": SampleSource(source).label, "n": added, "p": available},
            sample_source=source,
            sample_from=period_from,
            sample_to=period_to,
        )
    return added


@dataclass
class ListSampleResult:
    added: int = 0
    duplicates: int = 0
    opted_out: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def sample_from_list(survey: Survey, *, lines: Iterable[str], actor: User) -> ListSampleResult:
    """An uploaded list of phones (one a line, or the first column of a CSV): each valid number
    is invited once; opted-out phones are left out; a bad line is reported with its number."""
    if not permissions.may_run_surveys(actor):
        raise PermissionDenied
    result = ListSampleResult()
    phones: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        raw = (line or "").split(",")[0].strip().strip('"').strip()
        if not raw or (number == 1 and not any(ch.isdigit() for ch in raw)):
            continue  # blank line or a header
        try:
            e164 = normalize_phone(raw)
        except ValidationError as exc:
            result.rejected.append({"line": number, "value": raw[:30], "reason": " ".join(exc.messages)})
            continue
        digest = phone_hash(e164)
        if digest in phones:
            result.duplicates += 1
            continue
        phones[digest] = e164
    opted = set(OptOut.objects.filter(phone_hash__in=list(phones)).values_list("phone_hash", flat=True))
    result.opted_out = len(opted)
    for digest in opted:
        phones.pop(digest)
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status not in (SurveyStatus.DRAFT, SurveyStatus.SAMPLING):
            raise Refused(_("邀请短信已发出，不能再抽样。"))
        present = set(
            SurveyInvitation.objects.filter(survey=locked, phone_hash__in=list(phones)).values_list(
                "phone_hash", flat=True
            )
        )
        result.duplicates += len(present)
        result.added = _add_invitations(locked, phones, source=SampleSource.UPLOAD)
        _survey_transition(
            locked,
            to=SurveyStatus.SAMPLING,
            actor=actor,
            action="sample",
            note=_("上传名单新增%(n)d个号码") % {"n": result.added},
            sample_source=SampleSource.UPLOAD,
        )
    return result


def survey_link(invitation: SurveyInvitation, *, base_url: str = "") -> str:
    from django.urls import reverse

    base = (settings.PUBLIC_BASE_URL or base_url or "").rstrip("/")
    return base + reverse("surveys:survey_form", args=[invitation.token])


def open_survey(survey: Survey, *, actor: User, base_url: str = "") -> int:
    """Send every invitation its personal link by SMS (within sending hours) and start taking
    answers. Each invitation gets one SMS (dedupe key), so opening twice sends nothing more.
    Returns how many SMS were queued."""
    if not permissions.may_run_surveys(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status == SurveyStatus.OPEN:
            return 0
        if not SurveyInvitation.objects.filter(survey=locked).exists():
            raise Refused(_("请先抽取样本。"))
        send_after = next_sending_time()
        queued = 0
        # A phone that opted out since the sample was drawn gets nothing.
        opted = OptOut.objects.filter(phone_hash=OuterRef("phone_hash"))
        pending = SurveyInvitation.objects.filter(survey=locked, sms__isnull=True).exclude(Exists(opted))
        for invitation in pending.order_by("id"):
            sms = queue_sms(
                phone=invitation.phone,
                template_code="survey_invite",
                params={"link": survey_link(invitation, base_url=base_url)},
                purpose=SmsPurpose.SURVEY,
                dedupe_key=f"survey:{invitation.pk}",
                send_after=send_after,
            )
            SurveyInvitation.objects.filter(pk=invitation.pk).update(sms=sms)
            queued += 1
        # Say before sending when the batch cannot go out within today's window (it goes on in the next).
        from sms.outbox import alert_admins, batch_fits_window

        warning = ""
        if queued and not batch_fits_window(segments=queued, start=send_after, end=window_end(send_after)):
            warning = _("按当前速率，%(n)d条邀请短信无法在本发送时段内发完，剩余部分顺延到下一个发送时段。") % {
                "n": queued
            }
            alert_admins(text=warning, dedupe_key=f"surveys:survey-window:{locked.pk}")
        _survey_transition(
            locked,
            to=SurveyStatus.OPEN,
            actor=actor,
            action="open",
            note=(_("发送邀请短信%(n)d条") % {"n": queued} + " " + warning).strip(),
            opened_at=timezone.now(),
        )
    return queued


def close_survey(survey: Survey, *, actor: User) -> Survey:
    """Stop taking answers. Closing a closed survey changes nothing."""
    if not permissions.may_run_surveys(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status == SurveyStatus.CLOSED:
            return locked
        return _survey_transition(locked, to=SurveyStatus.CLOSED, actor=actor, action="close", closed_at=timezone.now())


def submit_survey_response(
    invitation: SurveyInvitation, *, answers: dict[str, str], now: dt.datetime | None = None
) -> tuple[SurveyResponse, bool]:
    """Store the answers of one invitation (keys: question ids as text). One response per
    invitation: submitting again replaces the answers. Returns (response, created). Raises
    ``ValidationError`` (per question id, Chinese) and ``Refused`` when the survey is
    not taking answers."""
    now = now or timezone.now()
    with transaction.atomic():
        inv = SurveyInvitation.objects.select_for_update().select_related("survey").get(pk=invitation.pk)
        if inv.survey.status != SurveyStatus.OPEN:
            raise Refused(_("本次调查已结束，感谢您的关注。"))
        clean: dict[str, str] = {}
        errors: dict[str, str] = {}
        for question in inv.survey.questions.all():
            key = str(question.pk)
            value = str(answers.get(key) or "").strip()
            if not value:
                if question.required:
                    errors[key] = _("请回答此题。")
                continue
            if question.kind == QuestionKind.TEXT:
                value = value[:1000]
            elif value not in question.choices:
                errors[key] = _("请从选项中选择。")
                continue
            clean[key] = value
        if errors:
            raise ValidationError(errors)
        response = SurveyResponse.objects.filter(invitation=inv).first()
        if response is None:
            return SurveyResponse.objects.create(
                invitation=inv, survey=inv.survey, answers=clean, submitted_at=now, updated_at=now
            ), True
        response.answers, response.updated_at = clean, now
        response.submissions += 1
        response.save(update_fields=["answers", "updated_at", "submissions"])
        return response, False
