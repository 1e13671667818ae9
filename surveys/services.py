"""Business operations of the surveys app: taking in service records, the daily evaluation run,
reading citizens' replies, ratings, opt-outs and the callback desk.

Views, the API, tasks and commands call these; nothing else changes a status.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from intake.phones import normalize_phone, phone_hash
from units.models import Unit, User

from . import qr
from .choices import (
    Aspect,
    CallbackStatus,
    CallbackVerdict,
    CallOutcome,
    InboundOutcome,
    OptOutSource,
    QuestionKind,
    RatingSource,
    RecordState,
    ReviewStatus,
    SampleSource,
    SkipReason,
    SmsPurpose,
    SmsStatus,
    SurveyKind,
    SurveyStatus,
    Verdict,
)
from .models import (
    BusinessType,
    Callback,
    CallbackAttempt,
    CallbackEvent,
    EvaluationRun,
    InboundSms,
    OptOut,
    OutboundSms,
    Rating,
    RatingPoint,
    ReviewItem,
    ServiceRecord,
    Survey,
    SurveyEvent,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from .sms import enqueue_after_commit, next_sending_time, queue_sms, render, segments_of, window_end

logger = logging.getLogger(__name__)

MAX_RECORDS_PER_PUSH = 1000


class TransitionNotAllowed(Exception):
    """A move the state machine does not allow (answers 409 in the API)."""


class RectificationUnavailable(Exception):
    """The work-order app cannot take a rectification order now."""


# --- service records -------------------------------------------------------------------------


@dataclass
class RecordImportResult:
    created: int = 0
    existing: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "existing": self.existing,
            "rejected": len(self.rejected),
            "errors": self.rejected,
        }


def _parse_served_at(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(12, 0))
    else:
        text = str(value or "").strip().replace("/", "-")
        try:  # well-formed but impossible values (minute 60, offset +25:00) raise: a bad row
            moment = parse_datetime(text.replace(" ", "T", 1)) if " " in text else parse_datetime(text)
            day = None if moment is not None else parse_date(text)
        except ValueError:
            return None
        if moment is None:
            if day is None:
                return None
            moment = dt.datetime.combine(day, dt.time(12, 0))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def take_in_service_records(
    *,
    rows: Iterable[tuple[int, dict[str, Any]]],
    source: str,
    actor: User | None = None,
    import_batch_id: int | None = None,
) -> RecordImportResult:
    """Validate and store service records, set-wise: one query per look-up table, one bulk insert.

    ``rows`` are (index or row number, data) pairs. A record whose ``external_id`` is already
    stored counts as already present and changes nothing; a bad row is reported with its index and
    a reason in Chinese, and the good rows go in.
    """
    rows = list(rows)
    result = RecordImportResult()
    types = {b.code: b for b in BusinessType.objects.all()}
    types.update({b.name: b for b in types.copy().values()})
    unit_codes = {str(r.get("unit_code") or "").strip() for _i, r in rows}
    units = {u.code: u for u in Unit.objects.filter(code__in=unit_codes)}
    officer_codes = {str(r.get("officer_code") or "").strip() for _i, r in rows} - {""}
    officers = {u.police_number: u for u in User.objects.filter(police_number__in=officer_codes)}
    ids = [str(r.get("external_id") or "").strip() for _i, r in rows]
    present = set(ServiceRecord.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
    seen: set[str] = set()
    new: list[ServiceRecord] = []
    for index, row in rows:
        errors = []
        external_id = str(row.get("external_id") or "").strip()
        if not external_id:
            errors.append(_("缺少业务编号（external_id）。"))
        elif len(external_id) > 64:
            errors.append(_("业务编号过长（最多64个字符）。"))
        btype = types.get(str(row.get("business_type") or "").strip())
        if btype is None:
            errors.append(_("未知的业务类型：%(v)s。") % {"v": row.get("business_type") or ""})
        served_at = _parse_served_at(row.get("served_at"))
        if served_at is None:
            errors.append(_("办理时间格式不正确：%(v)s。") % {"v": row.get("served_at") or ""})
        unit = units.get(str(row.get("unit_code") or "").strip())
        if unit is None:
            errors.append(_("未知的单位代码：%(v)s。") % {"v": row.get("unit_code") or ""})
        try:
            e164 = normalize_phone(str(row.get("citizen_phone") or ""))
        except ValidationError as exc:
            errors.append(_("群众电话：%(e)s") % {"e": " ".join(str(m) for m in exc.messages)})
            e164 = ""
        if errors:
            result.rejected.append({"index": index, "external_id": external_id, "reason": " ".join(errors)})
            continue
        if external_id in present or external_id in seen:
            result.existing += 1
            continue
        seen.add(external_id)
        officer_code = str(row.get("officer_code") or "").strip()[:20]
        new.append(
            ServiceRecord(
                external_id=external_id,
                business_type=btype,
                served_at=served_at,
                unit=unit,
                officer=officers.get(officer_code),
                officer_code=officer_code,
                citizen_phone=e164,
                citizen_phone_hash=phone_hash(e164),
                source=source[:32],
                import_batch_id=import_batch_id,
            )
        )
    if new:
        before = ServiceRecord.objects.filter(external_id__in=[r.external_id for r in new]).count()
        ServiceRecord.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        after = ServiceRecord.objects.filter(external_id__in=[r.external_id for r in new]).count()
        # A concurrent push may have stored some of them first: those are "already present".
        result.created = after - before
        result.existing += len(new) - result.created
    return result


# --- the daily evaluation run ----------------------------------------------------------------


def _date_param(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def run_evaluation(
    *, service_date: dt.date | None = None, actor: User | None = None, now: dt.datetime | None = None
) -> EvaluationRun:
    """Create one evaluation SMS per pending service record of ``service_date`` (default: the day
    SURVEYS_EVALUATION_DELAY_DAYS back), recording why each skipped record was skipped.

    Steps:
    1. get or create the run row of that date and lock it (two runs at once queue up);
    2. take the day's records still pending (a second run finds none: it creates nothing);
    3. skip excluded business types, opted-out phones and phones that got an evaluation SMS in the
       last SURVEYS_PHONE_CAP_DAYS days (or earlier in this run);
    4. insert the SMS rows with ``send_after`` inside the sending window, mark the records;
    5. warn when the batch cannot be sent before the window closes; after commit, start sending.
    """
    now = now or timezone.now()
    delay = settings.SURVEYS_EVALUATION_DELAY_DAYS
    service_date = service_date or (timezone.localdate(now) - dt.timedelta(days=delay))
    with transaction.atomic():
        try:
            with transaction.atomic():
                EvaluationRun.objects.get_or_create(service_date=service_date, defaults={"delay_days": delay})
        except IntegrityError:
            pass
        run = EvaluationRun.objects.select_for_update().get(service_date=service_date)
        records = list(
            ServiceRecord.objects.filter(served_at__date=service_date, state=RecordState.PENDING)
            .select_related("business_type", "business_type__template")
            .order_by("served_at", "id")
        )
        hashes = {r.citizen_phone_hash for r in records}
        opted = set(OptOut.objects.filter(phone_hash__in=hashes).values_list("phone_hash", flat=True))
        recent = set(
            OutboundSms.objects.filter(
                purpose=SmsPurpose.EVALUATION,
                phone_hash__in=hashes,
                created_at__gte=now - dt.timedelta(days=settings.SURVEYS_PHONE_CAP_DAYS),
            )
            .exclude(status=SmsStatus.FAILED)
            .values_list("phone_hash", flat=True)
        )
        send_after = next_sending_time(now)
        reasons: Counter[str] = Counter(run.skipped_reasons or {})
        outbox: list[OutboundSms] = []
        for record in records:
            record.run = run
            reason = ""
            if not record.business_type.is_evaluated:
                reason = SkipReason.NOT_EVALUATED
            elif record.citizen_phone_hash in opted:
                reason = SkipReason.OPTED_OUT
            elif record.citizen_phone_hash in recent:
                reason = SkipReason.RECENTLY_CONTACTED
            if reason:
                record.state, record.skip_reason = RecordState.SKIPPED, reason
                reasons[reason] += 1
                continue
            code = record.business_type.template.code
            params = {"date": _date_param(timezone.localdate(record.served_at))}
            text = render(code, params)
            recent.add(record.citizen_phone_hash)
            record.state, record.skip_reason = RecordState.QUEUED, ""
            outbox.append(
                OutboundSms(
                    phone=record.citizen_phone,
                    phone_hash=record.citizen_phone_hash,
                    template_code=code,
                    params=params,
                    text=text,
                    segments=segments_of(text),
                    purpose=SmsPurpose.EVALUATION,
                    dedupe_key=f"evaluation:{record.pk}",
                    service_record=record,
                    send_after=send_after,
                    next_attempt_at=send_after,
                    created_at=now,
                )
            )
        OutboundSms.objects.bulk_create(outbox, batch_size=500, ignore_conflicts=True)
        ServiceRecord.objects.bulk_update(records, ["state", "skip_reason", "run"], batch_size=500)
        run.records += len(records)
        run.queued += len(outbox)
        run.skipped += len(records) - len(outbox)
        run.skipped_reasons = dict(reasons)
        run.send_after = run.send_after or send_after
        run.finished_at = now
        segments = sum(s.segments for s in outbox)
        run.window_warning = ""
        if outbox:
            from .outbox import batch_fits_window

            end = window_end(send_after)
            if not batch_fits_window(segments=segments, start=send_after, end=end):
                run.window_warning = _(
                    "本批%(n)d条短信（%(s)d计费条）按当前速率无法在%(end)s前发完，剩余部分将顺延到下一个发送时段。"
                ) % {"n": len(outbox), "s": segments, "end": timezone.localtime(end).strftime("%H:%M")}
                logger.warning("evaluation run %s: batch does not fit the sending window", service_date)
                from .outbox import alert_admins

                alert_admins(text=run.window_warning, dedupe_key=f"surveys:window:{service_date}:{run.queued}")
        run.save()
        if outbox and send_after <= now + dt.timedelta(minutes=1):
            from .sms import _safe_delay
            from .tasks import sweep_sms_task

            transaction.on_commit(lambda: _safe_delay(sweep_sms_task))
    return run


# --- replies ---------------------------------------------------------------------------------

OPT_OUT_WORDS = {"TD", "T", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "N"}
VERDICT_DIGITS = {"1": Verdict.SATISFIED, "2": Verdict.BASIC, "3": Verdict.DISSATISFIED, "0": Verdict.DECLINED}
VERDICT_WORDS = [
    ("非常不满意", Verdict.DISSATISFIED),
    ("很不满意", Verdict.DISSATISFIED),
    ("不满意", Verdict.DISSATISFIED),
    ("基本满意", Verdict.BASIC),
    ("比较满意", Verdict.BASIC),
    ("非常满意", Verdict.SATISFIED),
    ("很满意", Verdict.SATISFIED),
    ("满意", Verdict.SATISFIED),
    ("不评价", Verdict.DECLINED),
]
_DIGIT_REPLY = re.compile(r"^([0-3])(?![0-9])[\s,，.。、:：;；!！-]*(.*)$", re.S)
_SEPARATORS = " \t\r\n,，.。、:：;；!！"
ASPECT_WORDS = [
    ("速度", Aspect.SPEED),
    ("太慢", Aspect.SPEED),
    ("没来", Aspect.SPEED),
    ("态度", Aspect.ATTITUDE),
    ("结果", Aspect.OUTCOME),
    ("没解决", Aspect.OUTCOME),
    ("公正", Aspect.FAIRNESS),
    ("廉洁", Aspect.FAIRNESS),
    ("不公", Aspect.FAIRNESS),
]
ASPECT_DIGITS = {"1": Aspect.SPEED, "2": Aspect.ATTITUDE, "3": Aspect.OUTCOME, "4": Aspect.FAIRNESS}


@dataclass(frozen=True)
class ParsedReply:
    kind: str  # "rating", "opt_out", "unclear"
    verdict: str = ""
    text: str = ""


def parse_reply(body: str) -> ParsedReply:
    """Read a reply: 1/2/3 (ASCII or full width), 满意/基本满意/不满意, a digit followed by text
    (the text is kept), 0 (declines), TD/STOP (opt-out). Anything else is unclear."""
    text = unicodedata.normalize("NFKC", body or "").strip()
    if text.upper().strip(_SEPARATORS) in OPT_OUT_WORDS:
        return ParsedReply("opt_out")
    match = _DIGIT_REPLY.match(text)
    if match:
        return ParsedReply("rating", VERDICT_DIGITS[match.group(1)], match.group(2).strip()[:500])
    for word, verdict in VERDICT_WORDS:
        if text.startswith(word):
            return ParsedReply("rating", verdict, text[len(word) :].strip(_SEPARATORS)[:500])
    return ParsedReply("unclear", text=text[:500])


def parse_aspect(body: str) -> str:
    """The aspect named in an answer to the follow-up SMS ("2", "态度不好"), or "" if none."""
    text = unicodedata.normalize("NFKC", body or "").strip()
    match = re.match(r"^([1-4])(?![0-9])", text)
    if match:
        return ASPECT_DIGITS[match.group(1)]
    for word, aspect in ASPECT_WORDS:
        if word in text:
            return aspect
    return ""


MATCHABLE = (SmsPurpose.EVALUATION, SmsPurpose.FOLLOW_UP, SmsPurpose.APPEAL_CLOSED)


def receive_inbound(
    *, provider: str, message_id: str, phone: str, body: str, received_at: dt.datetime | None = None
) -> tuple[InboundSms, bool]:
    """Store one inbound SMS (once per provider message id) and read it. Returns (row, created).

    The row is committed before it is read, so a failure while reading loses nothing: the sweeper
    reads rows left without an outcome.
    """
    try:
        e164 = normalize_phone(phone)
    except ValidationError:
        e164 = (phone or "").strip()[:32] or "unknown"
    with transaction.atomic():
        try:
            with transaction.atomic():
                inbound = InboundSms.objects.create(
                    provider=provider[:24],
                    provider_message_id=message_id[:64],
                    phone=e164,
                    phone_hash=phone_hash(e164),
                    body=(body or "")[:1600],
                    received_at=received_at or timezone.now(),
                )
        except IntegrityError:
            return InboundSms.objects.get(provider=provider[:24], provider_message_id=message_id[:64]), False
    try:
        process_inbound(inbound.pk)
    except Exception:
        logger.exception("inbound SMS %s could not be read now; left for the sweeper", inbound.pk)
    inbound.refresh_from_db()
    return inbound, True


def process_inbound(inbound_id: int) -> str:
    """Turn a stored inbound SMS into an opt-out, a rating, a follow-up answer or a review item.
    Reading the same row twice does nothing the second time."""
    with transaction.atomic():
        inbound = InboundSms.objects.select_for_update().get(pk=inbound_id)
        if inbound.outcome:
            return inbound.outcome
        parsed = parse_reply(inbound.body)
        if parsed.kind == "opt_out":
            add_opt_out(phone=inbound.phone, source=OptOutSource.SMS, inbound=inbound, actor=None)
            inbound.outcome = InboundOutcome.OPT_OUT
            inbound.save(update_fields=["outcome"])
            return inbound.outcome
        since = inbound.received_at - dt.timedelta(hours=settings.SURVEYS_REPLY_WINDOW_HOURS)
        target = (
            OutboundSms.objects.filter(
                phone_hash=inbound.phone_hash,
                # A survey invitation is a candidate too: a reply to it is about the survey, so it
                # must not become a verdict on an older evaluation SMS.
                purpose__in=(*MATCHABLE, SmsPurpose.SURVEY),
                sent_at__gte=since,
                sent_at__lte=inbound.received_at + dt.timedelta(minutes=5),
            )
            .order_by("-sent_at", "-id")
            .first()
        )
        inbound.matched_sms = target
        if target is None or target.purpose == SmsPurpose.SURVEY:
            outcome = InboundOutcome.UNMATCHED
        elif target.purpose == SmsPurpose.FOLLOW_UP:
            outcome = _record_follow_up_answer(target, inbound)
        elif parsed.kind != "rating":
            outcome = InboundOutcome.UNCLEAR
        elif Rating.objects.filter(sms=target).exists():
            outcome = InboundOutcome.ALREADY_RATED
        else:
            _record_sms_rating(target, inbound, parsed)
            outcome = InboundOutcome.RATING
        inbound.outcome = outcome
        inbound.save(update_fields=["outcome", "matched_sms"])
        if outcome in (InboundOutcome.UNMATCHED, InboundOutcome.UNCLEAR, InboundOutcome.ALREADY_RATED):
            ReviewItem.objects.get_or_create(inbound=inbound, defaults={"reason": outcome})
    return outcome


def process_pending_inbound(*, older_than_seconds: int = 60) -> int:
    """Read inbound SMS stored but not read (the reader failed or the process died)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(InboundSms.objects.filter(outcome="", received_at__lt=cutoff).values_list("pk", flat=True)[:200])
    for pk in ids:
        try:
            process_inbound(pk)
        except Exception:  # one bad row must not stop the others
            logger.exception("inbound SMS %s could not be read", pk)
    return len(ids)


def _record_follow_up_answer(sms: OutboundSms, inbound: InboundSms) -> str:
    rating = Rating.objects.select_for_update().filter(pk=sms.follow_up_of_id).first()
    if rating is None or rating.aspect_text:
        return InboundOutcome.ALREADY_RATED
    rating.aspect = parse_aspect(inbound.body)
    rating.aspect_text = inbound.body[:500]
    rating.save(update_fields=["aspect", "aspect_text"])
    if hasattr(rating, "callback"):
        CallbackEvent.objects.create(
            callback=rating.callback,
            action="aspect",
            note=_("群众补充不满意方面：%(a)s") % {"a": rating.get_aspect_display() or inbound.body[:100]},
        )
    return InboundOutcome.FOLLOW_UP


def _record_sms_rating(sms: OutboundSms, inbound: InboundSms, parsed: ParsedReply) -> Rating:
    record = sms.service_record
    appeal = None
    unit = record.unit if record else None
    if sms.purpose == SmsPurpose.APPEAL_CLOSED and sms.params.get("code"):
        from intake.models import Appeal

        appeal = Appeal.objects.filter(tracking_code=sms.params["code"]).first()
        unit = appeal.unit if appeal else None
    rating = Rating.objects.create(
        sms=sms,
        service_record=record,
        appeal=appeal,
        unit=unit,
        business_type=record.business_type if record else None,
        verdict=parsed.verdict,
        text=parsed.text,
        source=RatingSource.SMS,
        inbound=inbound,
        phone_hash=sms.phone_hash,
        rated_at=inbound.received_at,
    )
    after_rating(rating, phone=inbound.phone)
    return rating


def after_rating(rating: Rating, *, phone: str) -> None:
    """What a verdict sets off: a callback and a warning to the unit's leaders when dissatisfied,
    and (when enabled) one follow-up SMS asking which aspect fell short."""
    if rating.verdict == Verdict.DISSATISFIED:
        callback, created = Callback.objects.get_or_create(
            rating=rating,
            defaults={
                "unit": rating.unit,
                "due_at": timezone.now() + dt.timedelta(hours=settings.SURVEYS_CALLBACK_DUE_HOURS),
            },
        )
        if created:
            CallbackEvent.objects.create(
                callback=callback, action="created", to_status=callback.status, note=rating.text
            )
            if rating.unit_id:
                from django.urls import reverse

                from units.services import leaders_of, notify

                notify(
                    users=leaders_of(rating.unit),
                    text=_("本单位收到一条不满意评价（%(b)s），中心将进行人工回访。")
                    % {"b": rating.business_type.name if rating.business_type else _("诉求办理")},
                    url=reverse("surveys:rating_list"),
                    level="alert",  # a bad review: 紧急
                    dedupe_key=f"surveys:dissatisfied:{rating.pk}",
                )
    if (
        settings.SURVEYS_FOLLOW_UP
        and rating.verdict in (Verdict.BASIC, Verdict.DISSATISFIED)
        and rating.sms_id
        and rating.source == RatingSource.SMS
        and rating.sms.purpose == SmsPurpose.EVALUATION
    ):
        sms = queue_sms(
            phone=phone,
            template_code="eval_follow_up",
            params={},
            purpose=SmsPurpose.FOLLOW_UP,
            dedupe_key=f"follow_up:{rating.pk}",
            send_after=next_sending_time(),
        )
        OutboundSms.objects.filter(pk=sms.pk, follow_up_of__isnull=True).update(follow_up_of=rating)


def add_opt_out(
    *, phone: str, source: str, actor: User | None, inbound: InboundSms | None = None, note: str = ""
) -> OptOut:
    """Put a phone on the opt-out list (once); queued evaluation SMS to it are not sent."""
    try:
        e164 = normalize_phone(phone)
    except ValidationError:
        e164 = phone  # as the provider gave it (a number we cannot parse still opts out)
    digest = phone_hash(e164)
    opt, _created = OptOut.objects.get_or_create(
        phone_hash=digest, defaults={"phone": e164, "source": source, "inbound": inbound, "note": note[:200]}
    )
    # Not yet sent: never send them now.
    OutboundSms.objects.filter(
        phone_hash=digest,
        status=SmsStatus.QUEUED,
        purpose__in=[SmsPurpose.EVALUATION, SmsPurpose.FOLLOW_UP, SmsPurpose.SURVEY],
    ).update(status=SmsStatus.FAILED, failed_at=timezone.now(), last_error="号码已退订")
    return opt


def remove_opt_out(opt: OptOut, *, actor: User) -> None:
    """An administrator lifts an opt-out (the citizen asked to receive SMS again)."""
    logger.info("opt-out %s lifted by user %s", opt.pk, actor.pk)
    opt.delete()


def handle_review_item(item: ReviewItem, *, note: str, actor: User) -> ReviewItem:
    """Staff have read an unclear or unmatched reply. Doing it twice changes nothing."""
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().get(pk=item.pk)
        if item.status == ReviewStatus.DONE:
            return item
        item.status, item.note, item.handled_by, item.handled_at = ReviewStatus.DONE, note[:300], actor, timezone.now()
        item.save()
    return item


def rate_from_review(item: ReviewItem, *, verdict: str, actor: User, note: str = "") -> Rating:
    """Staff read an unclear reply ("三", "还行吧") as a verdict: the rating the pipeline could not
    make, with the same consequences (callback, follow-up). Only for a reply matched to an SMS that
    has no rating yet; doing it twice makes one rating."""
    if verdict not in Verdict.values:
        raise ValidationError(_("请选择评价。"))
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().select_related("inbound").get(pk=item.pk)
        inbound = item.inbound
        sms = OutboundSms.objects.select_for_update().filter(pk=inbound.matched_sms_id).first()
        if sms is None or sms.purpose not in (SmsPurpose.EVALUATION, SmsPurpose.APPEAL_CLOSED):
            raise TransitionNotAllowed(_("这条回复没有对应的回访短信，不能记为评价。"))
        existing = Rating.objects.filter(sms=sms).first()
        if existing:
            if existing.inbound_id == inbound.pk:
                return existing
            raise TransitionNotAllowed(_("该短信已有评价，不能重复评价。"))
        rating = _record_sms_rating(sms, inbound, ParsedReply("rating", verdict, inbound.body[:500]))
        item.status, item.handled_by, item.handled_at = ReviewStatus.DONE, actor, timezone.now()
        item.note = (note or _("人工认定为“%(v)s”") % {"v": Verdict(verdict).label})[:300]
        item.save()
    return rating


def requeue_sms(sms: OutboundSms, *, actor: User) -> bool:
    """After checking with the provider that a flagged SMS was not sent, queue it again."""
    from .outbox import requeue_after_check

    done = requeue_after_check(sms)
    if done:
        sms.refresh_from_db()
        enqueue_after_commit(sms)
        logger.info("SMS %s re-queued after reconciliation by user %s", sms.pk, actor.pk)
    return done


# --- the callback desk -----------------------------------------------------------------------

CALLBACK_MOVES: dict[str, set[str]] = {
    CallbackStatus.PENDING: {CallbackStatus.PENDING, CallbackStatus.REACHED, CallbackStatus.CLOSED},
    CallbackStatus.REACHED: {CallbackStatus.REACHED, CallbackStatus.CLOSED},
    CallbackStatus.CLOSED: set(),
}


def _callback_transition(
    callback: Callback, *, to: str, actor: User | None, action: str, note: str = "", **changes: Any
) -> Callback:
    """Lock the callback, check the move, apply ``changes``, write the event row. Must run inside
    a transaction (the caller's)."""
    locked = Callback.objects.select_for_update().get(pk=callback.pk)
    if to not in CALLBACK_MOVES[locked.status]:
        raise TransitionNotAllowed(_("回访当前状态为“%(s)s”，不能执行此操作。") % {"s": locked.get_status_display()})
    before = locked.status
    locked.status = to
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save()
    CallbackEvent.objects.create(
        callback=locked, actor=actor, action=action, from_status=before, to_status=to, note=note[:1000]
    )
    return locked


def record_call(
    callback: Callback,
    *,
    outcome: str,
    actor: User,
    note: str = "",
    reason: str = "",
    is_reasonable: bool | None = None,
) -> Callback:
    """Record one call to the citizen. Reached: the reason and whether the complaint is reasonable
    are kept. No answer: the callback is due again later, and after
    SURVEYS_CALLBACK_MAX_UNREACHED unanswered calls it closes as unresolved."""
    if outcome not in CallOutcome.values:
        raise ValidationError(_("请选择拨打结果。"))
    now = timezone.now()
    with transaction.atomic():
        current = Callback.objects.select_for_update().get(pk=callback.pk)
        if current.status == CallbackStatus.CLOSED:
            raise TransitionNotAllowed(_("回访已结案，不能再登记通话。"))
        CallbackAttempt.objects.create(callback=current, actor=actor, outcome=outcome, note=note[:500])
        changes: dict[str, Any] = {"attempts": current.attempts + 1, "assigned_to": actor}
        label = CallOutcome(outcome).label
        if outcome == CallOutcome.NO_ANSWER:
            unreached = current.unreached + 1
            changes["unreached"] = unreached
            if unreached >= settings.SURVEYS_CALLBACK_MAX_UNREACHED and current.status == CallbackStatus.PENDING:
                return _callback_transition(
                    current,
                    to=CallbackStatus.CLOSED,
                    actor=actor,
                    action="call",
                    note=_("%(n)d次未接通，按未化解结案。") % {"n": unreached},
                    verdict=CallbackVerdict.UNRESOLVED,
                    closed_at=now,
                    closed_by=actor,
                    **changes,
                )
            changes["due_at"] = now + dt.timedelta(hours=settings.SURVEYS_CALLBACK_RETRY_HOURS)
            return _callback_transition(
                current, to=current.status, actor=actor, action="call", note=f"{label} {note}".strip(), **changes
            )
        if reason:
            changes["reason"] = reason
        if is_reasonable is not None:
            changes["is_reasonable"] = is_reasonable
        return _callback_transition(
            current, to=CallbackStatus.REACHED, actor=actor, action="call", note=f"{label} {note}".strip(), **changes
        )


def warn_overdue_callbacks(*, now: dt.datetime | None = None) -> int:
    """Tell the center staff about each callback past its due time (once per due time), so an
    unanswered citizen is not forgotten. Returns how many callbacks were overdue."""
    from django.urls import reverse

    from units.choices import Role
    from units.services import notify

    now = now or timezone.now()
    overdue = list(Callback.objects.open().filter(due_at__lt=now).select_related("unit")[:200])
    if not overdue:
        return 0
    staff = list(User.objects.filter(role=Role.CENTER_STAFF, is_active=True))
    for callback in overdue:
        notify(
            users=staff,
            text=_("人工回访#%(id)s（%(unit)s）已超过回访时限，请尽快回访。")
            % {"id": callback.pk, "unit": callback.unit.name if callback.unit else "—"},
            url=reverse("surveys:callback_detail", args=[callback.pk]),
            level="warning",
            dedupe_key=f"surveys:callback-overdue:{callback.pk}:{callback.due_at:%Y%m%d%H%M}",
        )
    return len(overdue)


def reveal_callback_phone(callback: Callback, *, actor: User, reason: str | None, ip: str | None = None) -> str:
    """The citizen's full number for the call, for center staff who say why.

    Every reveal is a row of the central reveal log (intake's, with the reason and the client
    address) and a step on the callback's timeline, in one transaction. Without a reason it
    raises ValidationError and reveals nothing.
    """
    from intake.choices import RevealedObject
    from intake.services import clean_reveal_reason, record_phone_reveal

    reason = clean_reveal_reason(reason)
    rating = callback.rating
    phone = rating.sms.phone if rating.sms_id else rating.phone
    if not phone:
        return ""
    with transaction.atomic():
        record_phone_reveal(
            actor=actor,
            reason=reason,
            ip=ip,
            object_type=RevealedObject.CALLBACK,
            object_id=callback.pk,
            object_label=_("回访#%(id)s") % {"id": callback.pk},
        )
        CallbackEvent.objects.create(
            callback=callback,
            actor=actor,
            action="reveal_phone",
            note=_("查看了群众完整号码，事由：%(reason)s") % {"reason": reason},
        )
    logger.info("callback %s: phone revealed to user %s", callback.pk, actor.pk)
    return phone


def open_rectification(callback: Callback, *, actor: User, note: str = "") -> Callback:
    """A reasonable complaint becomes a rectification work order to the rated unit, due in
    SURVEYS_RECTIFICATION_WORKING_DAYS working days. Opening it twice opens one order."""
    try:
        from intake.choices import Channel, Kind
        from intake.services import create_appeal
        from workorders.services import TransitionError as OrderRefused
        from workorders.services import dispatch_appeal
    except ImportError as exc:  # the work-order app is not installed here
        raise RectificationUnavailable(_("工单模块不可用，无法派发整改工单。")) from exc
    with transaction.atomic():
        current = Callback.objects.select_for_update(of=("self",)).select_related("rating", "unit").get(pk=callback.pk)
        if current.rectification_appeal_id:
            return current
        if current.status != CallbackStatus.REACHED:
            raise TransitionNotAllowed(_("需先联系到群众并记录不满意原因，才能派发整改工单。"))
        if current.unit is None:
            raise TransitionNotAllowed(_("该评价没有对应的办理单位，无法派发整改工单。"))
        rating = current.rating
        phone = rating.phone or ""
        if rating.sms_id:
            phone = rating.sms.phone
        reason = current.reason or rating.text or _("群众回访不满意")
        appeal, _created = create_appeal(
            channel=Channel.CALLBACK,
            external_id=f"callback-{current.pk}",
            content=_("回访整改：%(r)s") % {"r": reason},
            citizen_phone=phone,
            kind=Kind.COMPLAINT,
            actor=actor,
        )
        try:
            order = dispatch_appeal(
                appeal,
                unit=current.unit,
                actor=actor,
                note=note or _("群众回访不满意，经核实诉求合理，请整改并反馈。"),
                working_days=settings.SURVEYS_RECTIFICATION_WORKING_DAYS,
            )
        except PermissionDenied as exc:
            raise TransitionNotAllowed(str(exc) or _("无权派发整改工单。")) from exc
        except OrderRefused as exc:
            raise TransitionNotAllowed(str(exc)) from exc
        return _callback_transition(
            current,
            to=current.status,
            actor=actor,
            action="rectify",
            note=note or _("已派发整改工单"),
            is_reasonable=True,
            rectification_appeal=appeal,
            rectification_order_id=order.pk,
        )


def close_callback(callback: Callback, *, verdict: str, actor: User, note: str = "") -> Callback:
    """End a callback with its final verdict. Closing a closed callback again changes nothing."""
    if verdict not in CallbackVerdict.values:
        raise ValidationError(_("请选择回访结论。"))
    with transaction.atomic():
        current = Callback.objects.select_for_update().get(pk=callback.pk)
        if current.status == CallbackStatus.CLOSED:
            if current.verdict == verdict:
                return current
            raise TransitionNotAllowed(_("回访已结案，不能修改结论。"))
        return _callback_transition(
            current,
            to=CallbackStatus.CLOSED,
            actor=actor,
            action="close",
            note=note,
            verdict=verdict,
            closed_at=timezone.now(),
            closed_by=actor,
        )


# --- QR ratings (扫码评警) ----------------------------------------------------------------------


class RateLimited(Exception):
    """Too many submissions from one device, phone or for one rating point (answers 429)."""


def save_rating_point(
    point: RatingPoint | None,
    *,
    actor: User,
    unit: Unit,
    kind: str,
    name: str,
    officer_code: str = "",
    officer: User | None = None,
    is_active: bool = True,
) -> RatingPoint:
    """Create (``point`` None) or edit a rating point. An officer's badge is matched to the user
    with that police number when there is one."""
    officer_code = (officer_code or "").strip()[:20]
    if officer is None and officer_code:
        officer = User.objects.filter(police_number=officer_code).first()
    if officer is not None and not officer_code:
        officer_code = officer.police_number
    point = point or RatingPoint()
    point.unit, point.kind, point.name = unit, kind, (name or "").strip()[:60]
    point.officer, point.officer_code, point.is_active = officer, officer_code, is_active
    if not point.name:
        raise ValidationError({"name": _("请填写评价点名称。")})
    if RatingPoint.objects.filter(unit=unit, name=point.name).exclude(pk=point.pk).exists():
        raise ValidationError({"name": _("本单位已有同名评价点。")})
    point.save()
    logger.info("rating point %s saved by user %s", point.pk, actor.pk)
    return point


def rotate_rating_point(point: RatingPoint, *, actor: User) -> RatingPoint:
    """Replace the point's QR code: the version goes up, so every sticker printed before now
    opens the "invalid link" page. Use it when a sticker was copied or misused."""
    with transaction.atomic():
        locked = RatingPoint.objects.select_for_update().get(pk=point.pk)
        locked.token_version += 1
        locked.rotated_at = timezone.now()
        locked.save(update_fields=["token_version", "rotated_at", "updated_at"])
    logger.info("rating point %s rotated to version %s by user %s", locked.pk, locked.token_version, actor.pk)
    return locked


def _check_qr_limits(*, point: RatingPoint, device: str, digest: str) -> None:
    from intake import ratelimit

    allowed = ratelimit.hit(
        f"qr:device:{device}", limit=settings.SURVEYS_QR_PER_DEVICE_PER_HOUR, window=3600
    ) and ratelimit.hit(f"qr:point:{point.pk}", limit=settings.SURVEYS_QR_PER_POINT_PER_HOUR, window=3600)
    if allowed and digest:
        allowed = ratelimit.hit(f"qr:phone:{digest}", limit=settings.SURVEYS_QR_PER_PHONE_PER_DAY, window=86400)
    if not allowed:
        raise RateLimited(_("提交过于频繁，请稍后再试。如有紧急情况请拨打110。"))


def submit_qr_rating(
    point: RatingPoint,
    *,
    verdict: str,
    device_id: str,
    tags: Iterable[str] = (),
    text: str = "",
    phone: str = "",
    now: dt.datetime | None = None,
) -> tuple[Rating, bool]:
    """Record a citizen's rating from the QR form. Returns (rating, folded).

    1. validate the verdict, tags and the optional phone (Chinese errors);
    2. count the submission against the device, the point and the phone (``RateLimited``);
    3. lock the point (submissions to one point queue) and look for a rating from the same device
       for this point within SURVEYS_QR_FOLD_HOURS: found, it is updated (folded), else one is made;
    4. after commit, a bad review warns the unit's leaders and opens the rectification work order
       (``rectify_bad_review``; the sweeper re-drives it if that step fails).
    """
    from .choices import QR_VERDICTS, QrTag

    if verdict not in QR_VERDICTS:
        raise ValidationError({"verdict": _("请选择满意、基本满意或不满意。")})
    chosen = [t for t in dict.fromkeys(tags or ()) if t]
    unknown = [t for t in chosen if t not in QrTag.values]
    if unknown:
        raise ValidationError({"tags": _("未知的评价标签。")})
    e164 = normalize_phone(phone) if (phone or "").strip() else ""
    digest = phone_hash(e164) if e164 else ""
    device = qr.device_key(device_id)
    if not device:
        raise ValidationError(_("请先打开评价页面再提交（需要允许浏览器保存 Cookie）。"))
    _check_qr_limits(point=point, device=device, digest=digest)
    now = now or timezone.now()
    text = (text or "").strip()[:500]
    with transaction.atomic():
        locked = RatingPoint.objects.select_for_update().get(pk=point.pk)
        if not locked.is_active:
            raise TransitionNotAllowed(_("该评价点已停用。"))
        rating = (
            Rating.objects.select_for_update()
            .filter(
                source=RatingSource.QR,
                rating_point=locked,
                device_hash=device,
                rated_at__gte=now - dt.timedelta(hours=settings.SURVEYS_QR_FOLD_HOURS),
            )
            .order_by("-rated_at", "-id")
            .first()
        )
        folded = rating is not None
        if rating is None:
            rating = Rating(
                source=RatingSource.QR, rating_point=locked, unit=locked.unit, device_hash=device, rated_at=now
            )
        else:
            rating.folds += 1
            rating.updated_at = now
        rating.verdict, rating.tags, rating.text = verdict, chosen, text
        if e164:
            rating.phone, rating.phone_hash = e164, digest
        rating.save()
    if rating.verdict == Verdict.DISSATISFIED:
        try:
            rating = rectify_bad_review(rating)
        except Exception:  # the rating is saved; the sweeper opens the order later
            logger.exception("QR rating %s: rectification deferred to the sweeper", rating.pk)
    return rating, folded


def rectify_bad_review(rating: Rating, *, actor: User | None = None) -> Rating:
    """A dissatisfied QR rating: open a rectification work order to the rated unit (an appeal of
    channel "qr_rating" dispatched with SURVEYS_RECTIFICATION_WORKING_DAYS), warn the unit's
    leaders, and, when the citizen left a phone, put a callback on the desk (already linked to the
    order, so the desk does not open a second one). Doing it twice opens one order."""
    from django.urls import reverse

    from intake.choices import Channel, Kind
    from intake.services import create_appeal
    from units.services import leaders_of, notify
    from workorders.services import dispatch_appeal

    with transaction.atomic():
        current = (
            Rating.objects.select_for_update(of=("self",)).select_related("rating_point", "unit").get(pk=rating.pk)
        )
        if current.verdict != Verdict.DISSATISFIED or current.rectification_appeal_id or current.unit is None:
            return current
        point = current.rating_point
        place = str(point) if point else current.unit.name
        details = "，".join(current.tag_labels + ([current.text] if current.text else [])) or _("未填写原因")
        appeal, _created = create_appeal(
            channel=Channel.QR_RATING,
            external_id=f"qr-rating-{current.pk}",
            title=_("扫码差评：%(p)s") % {"p": place},
            content=_("群众扫码评价“不满意”（%(p)s）：%(d)s") % {"p": place, "d": details},
            citizen_phone=current.phone or "",
            kind=Kind.COMPLAINT,
            received_at=current.rated_at,
            actor=actor,
        )
        order = dispatch_appeal(
            appeal,
            unit=current.unit,
            actor=None,  # the system dispatches: the citizen, not a staff member, raised it
            note=_("群众扫码评价不满意，请核实情况、整改并反馈。"),
            working_days=settings.SURVEYS_RECTIFICATION_WORKING_DAYS,
        )
        current.rectification_appeal, current.rectification_order_id = appeal, order.pk
        current.save(update_fields=["rectification_appeal", "rectification_order_id"])
        if current.phone:
            callback, created = Callback.objects.get_or_create(
                rating=current,
                defaults={
                    "unit": current.unit,
                    "due_at": timezone.now() + dt.timedelta(hours=settings.SURVEYS_CALLBACK_DUE_HOURS),
                    "rectification_appeal": appeal,
                    "rectification_order_id": order.pk,
                },
            )
            if created:
                CallbackEvent.objects.create(
                    callback=callback,
                    action="created",
                    to_status=callback.status,
                    note=_("扫码差评，已派发整改工单%(n)s") % {"n": order.number},
                )
        notify(
            users=leaders_of(current.unit),
            text=_("%(p)s收到一条扫码“不满意”评价（%(d)s），已生成整改工单%(n)s，请核实整改。")
            % {"p": place, "d": details[:80], "n": order.number},
            url=reverse("workorders:detail", args=[order.pk]),
            level="alert",  # a bad review: 紧急
            dedupe_key=f"surveys:qr-bad-review:{current.pk}",
        )
    return current


def rectify_pending_bad_reviews(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """The sweeper of bad QR reviews whose order could not be opened at once (the work-order app
    failed or the process died after the rating was saved). Returns how many it opened."""
    now = now or timezone.now()
    pending = list(
        Rating.objects.filter(
            source=RatingSource.QR,
            verdict=Verdict.DISSATISFIED,
            rectification_appeal__isnull=True,
            unit__isnull=False,
            rated_at__lt=now - dt.timedelta(minutes=1),
        ).order_by("rated_at")[:limit]
    )
    done = 0
    for rating in pending:
        try:
            if rectify_bad_review(rating).rectification_appeal_id:
                done += 1
        except Exception:  # one bad row must not stop the others
            logger.exception("QR rating %s: rectification failed again", rating.pk)
    return done


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
    survey: Survey, *, to: str, actor: User | None, action: str, note: str = "", **changes
) -> Survey:
    """Lock the survey, check the move, apply ``changes``, write the event. Inside a transaction."""
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    if to not in SURVEY_MOVES[locked.status]:
        raise TransitionNotAllowed(_("调查当前状态为“%(s)s”，不能执行此操作。") % {"s": locked.get_status_display()})
    before = locked.status
    locked.status = to
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save()
    SurveyEvent.objects.create(
        survey=locked, actor=actor, action=action, from_status=before, to_status=to, note=note[:300]
    )
    return locked


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
            raise TransitionNotAllowed(_("邀请短信已发出，不能再抽样。"))
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
            raise TransitionNotAllowed(_("邀请短信已发出，不能再抽样。"))
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
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status == SurveyStatus.OPEN:
            return 0
        if not SurveyInvitation.objects.filter(survey=locked).exists():
            raise TransitionNotAllowed(_("请先抽取样本。"))
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
        from .outbox import alert_admins, batch_fits_window

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
    ``ValidationError`` (per question id, Chinese) and ``TransitionNotAllowed`` when the survey is
    not taking answers."""
    now = now or timezone.now()
    with transaction.atomic():
        inv = SurveyInvitation.objects.select_for_update().select_related("survey").get(pk=invitation.pk)
        if inv.survey.status != SurveyStatus.OPEN:
            raise TransitionNotAllowed(_("本次调查已结束，感谢您的关注。"))
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
