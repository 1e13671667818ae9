"""Demo data: a month of service records in 临江市, the evaluation SMS sent for them, replies in
every form, ratings, and callbacks in every state. Running it twice adds nothing.

Yesterday's records go through the real daily run; with the outbox backend that batch is handed
to the SMS simulator at once (whatever the hour), so a demo user can answer as the citizen.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from intake.phones import phone_hash
from sms.backends import OutboxBackend, get_backend
from sms.choices import SmsPurpose, SmsStatus
from sms.inbound import receive_inbound
from sms.models import OutboundSms
from sms.outbox import send_one
from units.models import Unit, User

from .catalogue import seed_defaults
from .choices import CallbackVerdict, CallOutcome, RecordState
from .models import BusinessType, Callback, ServiceRecord
from .services.callbacks import close_callback, open_rectification, record_call
from .services.records import run_evaluation

DAYS = 30
PER_DAY = 12
# Yesterday's batch waits in the simulator for the demo user: enough to try every reply more than once.
YESTERDAY = 24
STATIONS = ["LJ101", "LJ102", "LJ103", "LJ201", "LJ202", "LJ203", "LJ301", "LJ302", "LJ401", "LJ402"]
TYPE_WEIGHTS = [("110", 5), ("122", 2), ("household", 2), ("vehicle", 2), ("exit_entry", 1), ("case", 1), ("window", 2)]
# Replies in every form the pipeline understands, with how often citizens send them.
REPLIES = [
    ("1", 40),
    ("１", 8),
    ("满意", 10),
    ("1 谢谢民警", 4),
    ("2", 10),
    ("基本满意", 4),
    ("3", 3),
    ("3 民警没来", 2),
    ("不满意，等了一个多小时", 2),
    ("3 态度很差", 2),
    ("0", 3),
    ("TD", 1),
    ("你们是哪个单位的？", 2),
]
CALL_REASONS = [
    "报警后四十分钟民警才到现场",
    "窗口民警态度生硬，不解释材料要求",
    "事故认定书迟迟没有出具",
    "多次来回跑，材料要求前后不一致",
    "案件没有进展也没人告知",
]


def _pick(rng: random.Random, weighted):
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _records_for(
    day: dt.date, rng: random.Random, units: dict[str, Unit], types: dict[str, BusinessType], count: int = PER_DAY
) -> None:
    for i in range(count):
        external_id = f"DEMO-{day:%Y%m%d}-{i:03d}"
        if ServiceRecord.objects.filter(external_id=external_id).exists():
            continue
        phone = "+86" + "1380000" + f"{rng.randint(0, 9999):04d}"
        ServiceRecord.objects.create(
            external_id=external_id,
            business_type=types[_pick(rng, TYPE_WEIGHTS)],
            served_at=_local(day, rng.randint(8, 21), rng.randint(0, 59)),
            unit=units[rng.choice(STATIONS)],
            citizen_phone=phone,
            citizen_phone_hash=phone_hash(phone),
            source="demo",
        )


def _deliver_history(day: dt.date, rng: random.Random) -> None:
    """Mark a past day's batch delivered (as the outbox backend would have) and add the replies."""
    queued = OutboundSms.objects.filter(
        service_record__served_at__date=day, purpose=SmsPurpose.EVALUATION, status=SmsStatus.QUEUED
    )
    for sms in queued:
        sent_at = sms.send_after + dt.timedelta(minutes=rng.randint(0, 40))
        OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.QUEUED).update(
            status=SmsStatus.DELIVERED,
            attempts=1,
            backend="outbox",
            provider_sid=f"OUTBOX{sms.pk:010d}",
            sent_at=sent_at,
            delivered_at=sent_at + dt.timedelta(seconds=5),
        )
        if rng.random() < 0.32:  # field figures: 15–36% of citizens reply
            receive_inbound(
                provider="simulator",
                message_id=f"DEMO-IN-{sms.pk}",
                phone=sms.phone,
                body=_pick(rng, REPLIES),
                received_at=sent_at + dt.timedelta(minutes=rng.randint(2, 600)),
            )


def _work_the_callbacks(callbacks: list[Callback], center: User, rng: random.Random) -> None:
    """Bring the month's callbacks into every state: pending (some overdue), unreached and retried,
    reached with a reason, rectification ordered, closed with each verdict."""
    now = timezone.now()
    newest = callbacks[-3:]  # the latest few stay on the desk as they came in
    for index, callback in enumerate(callbacks[:-3]):
        step = index % 6
        due = callback.rating.rated_at + dt.timedelta(hours=settings.SURVEYS_CALLBACK_DUE_HOURS)
        Callback.objects.filter(pk=callback.pk).update(due_at=due, created_at=callback.rating.rated_at)
        reason = rng.choice(CALL_REASONS)
        if step == 0:
            continue  # overdue, nobody called yet
        if step == 1:
            record_call(callback, outcome=CallOutcome.NO_ANSWER, actor=center, note="无人接听，稍后再拨")
            continue
        if step == 2:
            for _ in range(settings.SURVEYS_CALLBACK_MAX_UNREACHED):
                record_call(callback, outcome=CallOutcome.NO_ANSWER, actor=center)
            continue
        record_call(callback, outcome=CallOutcome.REACHED, actor=center, reason=reason, is_reasonable=step != 4)
        if step == 3:
            continue  # reached, decision pending
        if step == 5:
            open_rectification(callback, actor=center, note="请核实情况，向群众说明并整改")
            close_callback(callback, verdict=CallbackVerdict.RESOLVED, actor=center, note="已整改并回复群众")
            continue
        close_callback(callback, verdict=CallbackVerdict.EXPLAINED, actor=center, note="已向群众解释相关规定")
    for callback in newest:
        Callback.objects.filter(pk=callback.pk).update(due_at=max(callback.due_at, now + dt.timedelta(hours=6)))


QR_POINTS = [
    # station, kind, name, officer code
    ("LJ101", "window", "户籍窗口", ""),
    ("LJ101", "window", "出入境窗口", ""),
    ("LJ101", "station", "服务大厅", ""),
    ("LJ101", "badge", "民警陈立新", "071123"),
    ("LJ102", "window", "户籍窗口", ""),
    ("LJ102", "station", "服务大厅", ""),
    ("LJ201", "window", "户籍窗口", ""),
    ("LJ202", "window", "综合窗口", ""),
]
QR_RATINGS = [
    # verdict, tags, comment, weight
    ("satisfied", ["attitude_good"], "", 10),
    ("satisfied", ["efficient", "professional"], "十分钟就办好了，谢谢", 6),
    ("satisfied", [], "", 8),
    ("satisfied", ["patient"], "民警解释得很清楚", 3),
    ("basic", ["clean"], "", 3),
    ("basic", ["slow"], "排队时间有点长", 3),
    ("dissatisfied", ["attitude_bad"], "窗口民警一边玩手机一边办理", 1),
    ("dissatisfied", ["runaround", "unclear"], "材料要求没说清楚，跑了三趟", 1),
]


def _qr_points_and_ratings(rng: random.Random, units: dict[str, Unit], center: User) -> int:
    """Rating points at the demo stations and a month of QR ratings on them (once: each demo
    rating has its own device id, and a rating of that device is never made twice)."""
    from intake.phones import phone_hash as hash_of_phone

    from . import qr
    from .models import Rating, RatingPoint
    from .services.qr_ratings import save_rating_point, submit_qr_rating

    points = []
    for code, kind, name, officer_code in QR_POINTS:
        unit = units.get(code) or Unit.objects.filter(code=code).first()
        if unit is None:
            continue
        point = RatingPoint.objects.filter(unit=unit, name=name).first()
        points.append(
            point or save_rating_point(None, actor=center, unit=unit, kind=kind, name=name, officer_code=officer_code)
        )
    if not points:
        return 0
    made = 0
    now = timezone.now()
    for i in range(48):
        device = f"demo-qr-device-{i:03d}"
        point = points[i % len(points)]
        verdict, tags, text, _w = rng.choices(QR_RATINGS, weights=[r[3] for r in QR_RATINGS])[0]
        rated_at = now - dt.timedelta(days=rng.randint(0, DAYS - 1), hours=rng.randint(0, 8))
        if Rating.objects.filter(device_hash=qr.device_key(device)).exists():
            continue
        phone = f"1380000{rng.randint(0, 9999):04d}" if rng.random() < 0.3 else ""
        if phone and Rating.objects.filter(source="qr", phone_hash=hash_of_phone("+86" + phone)).exists():
            phone = ""
        submit_qr_rating(point, verdict=verdict, tags=tags, text=text, phone=phone, device_id=device, now=rated_at)
        made += 1
    # A citizen who changed his mind: the second rating folds into the first.
    device = "demo-qr-device-fold"
    if not Rating.objects.filter(device_hash=qr.device_key(device)).exists():
        first = now - dt.timedelta(hours=5)
        submit_qr_rating(points[0], verdict="basic", tags=["slow"], device_id=device, now=first)
        submit_qr_rating(
            points[0], verdict="satisfied", tags=["efficient"], text="后来很快就办好了", device_id=device, now=first
        )
        made += 1
    return made


DEMO_SURVEY = "2026年第三季度群众安全感和满意度调查"
SUGGESTIONS = [
    "希望夜间多巡逻，特别是老小区",
    "户籍窗口周末也能办理就好了",
    "电动车被盗希望能尽快破案",
    "民警态度很好，辛苦了",
    "学校门口上下学时段交通有点乱",
]


def _closed_survey(rng: random.Random, center: User) -> str:
    """One finished survey: a sample of service-record phones, the invitations delivered, about
    forty percent answered, closed. Made once (looked up by title)."""
    from .models import Survey, SurveyInvitation
    from .services.polls import close_survey, create_survey, draw_sample, open_survey, submit_survey_response

    if Survey.objects.filter(title=DEMO_SURVEY).exists():
        return ""
    survey = create_survey(title=DEMO_SURVEY, kind="public", actor=center)
    today = timezone.localdate()
    draw_sample(survey, size=60, actor=center, period_from=today - dt.timedelta(days=DAYS), period_to=today)
    open_survey(survey, actor=center)  # links: PUBLIC_BASE_URL, else host-less (the simulator adds the host)
    sent_at = timezone.now() - dt.timedelta(days=6)
    invitations = list(SurveyInvitation.objects.filter(survey=survey).order_by("id"))
    # The invitations went out last week (as the outbox backend would have delivered them).
    OutboundSms.objects.filter(survey_invitation__in=invitations, status=SmsStatus.QUEUED).update(
        status=SmsStatus.DELIVERED, attempts=1, backend="outbox", sent_at=sent_at, delivered_at=sent_at
    )
    questions = list(survey.questions.order_by("position"))
    for invitation in invitations:
        if rng.random() > 0.42:
            continue
        answers = {
            str(questions[0].pk): rng.choices(questions[0].choices, weights=[30, 45, 17, 6, 2])[0],
            str(questions[1].pk): rng.choices(questions[1].choices, weights=[40, 35, 15, 7, 3])[0],
            str(questions[2].pk): rng.choices(questions[2].choices, weights=[35, 20, 5, 40])[0],
            str(questions[3].pk): rng.choice(SUGGESTIONS) if rng.random() < 0.4 else "",
        }
        submit_survey_response(invitation, answers=answers, now=sent_at + dt.timedelta(hours=rng.randint(1, 72)))
    close_survey(survey, actor=center)
    return survey.title


def load(stdout=None) -> None:
    """Create or complete the demo month; a second run finds everything in place."""
    seed_defaults()
    rng = random.Random(20261122)
    units = {u.code: u for u in Unit.objects.filter(code__in=STATIONS)}
    types = {b.code: b for b in BusinessType.objects.all()}
    center = User.objects.get(username="center")
    today = timezone.localdate()
    known = set(Callback.objects.values_list("pk", flat=True))
    for back in range(DAYS, 1, -1):
        day = today - dt.timedelta(days=back)
        _records_for(day, rng, units, types)
        if ServiceRecord.objects.filter(served_at__date=day, state=RecordState.PENDING).exists():
            run_evaluation(service_date=day, now=_local(day + dt.timedelta(days=1), 8, 30))
        _deliver_history(day, rng)
    # Only callbacks this load created: a second load leaves the desk as it is.
    new = list(Callback.objects.exclude(pk__in=known).select_related("rating").order_by("created_at", "pk"))
    _work_the_callbacks(new, center, rng)
    # Yesterday: the real daily run, then straight into the simulator.
    yesterday = today - dt.timedelta(days=1)
    _records_for(yesterday, rng, units, types, count=YESTERDAY)
    run = run_evaluation(service_date=yesterday)
    backend = get_backend()
    if backend.is_outbox:
        for sms_id in OutboundSms.objects.filter(
            service_record__run=run, status=SmsStatus.QUEUED, purpose=SmsPurpose.EVALUATION
        ).values_list("pk", flat=True):
            send_one(sms_id, backend=OutboxBackend(), respect_hours=False)
        # A few citizens have already answered this morning; the rest wait for the demo user.
        first = OutboundSms.objects.filter(service_record__run=run, sent_at__isnull=False).order_by("pk")[:3]
        for sms, body in zip(first, ["1", "基本满意", "3 出警太慢了"], strict=False):
            receive_inbound(provider="simulator", message_id=f"DEMO-IN-{sms.pk}", phone=sms.phone, body=body)
    qr_made = _qr_points_and_ratings(rng, units, center)
    survey_made = _closed_survey(rng, center)
    # A reply from a phone we never wrote to: kept for staff, not dropped.
    receive_inbound(
        provider="simulator",
        message_id="DEMO-IN-STRANGER",
        phone="13800009999",
        body="1",
        received_at=timezone.now() - dt.timedelta(hours=3),
    )
    if stdout:
        stdout.write(
            f"surveys: {ServiceRecord.objects.count()} service records, "
            f"{OutboundSms.objects.filter(purpose=SmsPurpose.EVALUATION).count()} evaluation SMS, "
            f"{Callback.objects.count()} callbacks; yesterday's batch: {run.queued} SMS; {qr_made} new QR ratings"
            + (f"; survey {survey_made!r}" if survey_made else "")
        )
