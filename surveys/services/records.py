"""Service records (业务记录) taken in by push, upload or import, and the daily evaluation run that asks each citizen once by SMS."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from intake.phones import normalize_phone, phone_hash
from sms.catalogue import render
from sms.choices import SmsPurpose, SmsStatus
from sms.models import OptOut, OutboundSms
from sms.texts import next_sending_time, segments_of, window_end
from sms.wake import sweep_after_commit
from units.models import Unit, User

from ..choices import (
    RecordState,
    SkipReason,
)
from ..models import (
    BusinessType,
    EvaluationRun,
    ServiceRecord,
)

logger = logging.getLogger(__name__)

MAX_RECORDS_PER_PUSH = 1000


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
            from sms.outbox import batch_fits_window

            end = window_end(send_after)
            if not batch_fits_window(segments=segments, start=send_after, end=end):
                run.window_warning = _(
                    "本批%(n)d条短信（%(s)d计费条）按当前速率无法在%(end)s前发完，剩余部分将顺延到下一个发送时段。"
                ) % {"n": len(outbox), "s": segments, "end": timezone.localtime(end).strftime("%H:%M")}
                logger.warning("evaluation run %s: batch does not fit the sending window", service_date)
                from sms.outbox import alert_admins

                alert_admins(text=run.window_warning, dedupe_key=f"surveys:window:{service_date}:{run.queued}")
        run.save()
        if outbox and send_after <= now + dt.timedelta(minutes=1):
            sweep_after_commit()
    return run
