"""Citizens' replies to the evaluation, follow-up and closure SMS: ratings, follow-up answers, the review list."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sms.choices import InboundOutcome, SmsPurpose
from sms.inbound import is_opt_out
from sms.models import InboundSms, OutboundSms
from sms.services import queue_sms
from sms.texts import next_sending_time
from units.errors import Refused
from units.models import User

from .. import permissions
from ..choices import (
    Aspect,
    RatingSource,
    ReviewStatus,
    Verdict,
)
from ..models import (
    Callback,
    CallbackEvent,
    Rating,
    ReviewItem,
)

logger = logging.getLogger(__name__)


# --- replies ---------------------------------------------------------------------------------

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
    if is_opt_out(body):
        return ParsedReply("opt_out")
    text = unicodedata.normalize("NFKC", body or "").strip()
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


def read_reply(sender, *, inbound: InboundSms, **kwargs) -> str:
    """Receiver of ``sms.signals.inbound_received``: turn a citizen's message into a rating, a
    follow-up answer or a review item (the SMS layer has taken out opt-outs already). Runs inside
    the reader's transaction with the row locked; the SMS layer saves the outcome."""
    parsed = parse_reply(inbound.body)
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
    if outcome in (InboundOutcome.UNMATCHED, InboundOutcome.UNCLEAR, InboundOutcome.ALREADY_RATED):
        ReviewItem.objects.get_or_create(inbound=inbound, defaults={"reason": outcome})
    return outcome


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


def handle_review_item(item: ReviewItem, *, note: str, actor: User) -> ReviewItem:
    """Staff have read an unclear or unmatched reply. Doing it twice changes nothing."""
    if not permissions.may_handle_replies(actor):
        raise PermissionDenied
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
    if not permissions.may_handle_replies(actor):
        raise PermissionDenied
    if verdict not in Verdict.values:
        raise ValidationError(_("请选择评价。"))
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().select_related("inbound").get(pk=item.pk)
        inbound = item.inbound
        sms = OutboundSms.objects.select_for_update().filter(pk=inbound.matched_sms_id).first()
        if sms is None or sms.purpose not in (SmsPurpose.EVALUATION, SmsPurpose.APPEAL_CLOSED):
            raise Refused(_("这条回复没有对应的回访短信，不能记为评价。"))
        existing = Rating.objects.filter(sms=sms).first()
        if existing:
            if existing.inbound_id == inbound.pk:
                return existing
            raise Refused(_("该短信已有评价，不能重复评价。"))
        rating = _record_sms_rating(sms, inbound, ParsedReply("rating", verdict, inbound.body[:500]))
        item.status, item.handled_by, item.handled_at = ReviewStatus.DONE, actor, timezone.now()
        item.note = (note or _("人工认定为“%(v)s”") % {"v": Verdict(verdict).label})[:300]
        item.save()
    return rating
