"""Mark the (day, unit) buckets a changed fact touches, in the fact's own transaction.

The other apps know nothing of analytics (it sits above them all), so their models are watched
here with Django's model signals, connected in ``AnalyticsConfig.ready``. Each watched instance
keeps a snapshot of the fields that count (taken when it is loaded, refreshed after each save);
a save that changes none of them marks nothing, so the frequent saves of the other apps (status
moves, claims, counters) cost one tuple comparison. A save that moves a fact (another unit,
another day, another verdict) marks the old bucket and the new one.

A mark is one plain insert into ``AggregateMark`` (append-only: a row per change, no unique key), so
two transactions marking the same bucket never wait for each other's commit; the minute job
(``analytics.aggregates.refresh_marked``) does the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import connections
from django.db.models.signals import post_delete, post_init, post_save, pre_delete, pre_save

from .aggregates import local_day

_MISSING = object()
_SNAPSHOT = "_analytics_seen"

Bucket = tuple[dt.date, "int | None"]


def mark(buckets: Iterable[Bucket], *, using: str = "default") -> None:
    """Insert a mark for each bucket, in one statement. Nothing is updated or locked: a mark of the
    same bucket by another open transaction does not make this one wait."""
    from .models import AggregateMark

    rows = sorted(set(buckets), key=lambda b: (b[0], -1 if b[1] is None else b[1]))
    if not rows:
        return
    if connections[using].vendor != "postgresql":
        # SQLite (``make run``'s development database) lacks unnest.
        AggregateMark.objects.using(using).bulk_create(AggregateMark(day=d, unit_id=u) for d, u in rows)
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {AggregateMark._meta.db_table} (day, unit_id, marked_at)
                SELECT d, u, now() FROM unnest(%s::date[], %s::bigint[]) AS t(d, u)""",
            [[d for d, _u in rows], [u for _d, u in rows]],
        )


# --- What each watched model counts ----------------------------------------------------------


def _appeal(values: dict, instance, using: str) -> set[Bucket]:
    if values["received_at"] is None:
        return set()
    return {(local_day(values["received_at"]), values["unit_id"])}


def _escalation_days(appeal_id: int, using: str) -> tuple[int | None, set[dt.date]] | None:
    """The appeal's owning unit and every day it escalated (12389 receipt, reopen events)."""
    from intake.choices import Channel
    from intake.models import Appeal
    from workorders.choices import Action
    from workorders.models import WorkOrderEvent

    row = Appeal.objects.using(using).filter(pk=appeal_id).values_list("unit_id", "channel", "received_at").first()
    if row is None:
        return None
    unit_id, channel, received_at = row
    days = {
        local_day(when)
        for when in WorkOrderEvent.objects.using(using)
        .filter(order__appeal_id=appeal_id, action=Action.REOPEN)
        .values_list("created_at", flat=True)
    }
    if channel == Channel.FEED_12389:
        days.add(local_day(received_at))
    return unit_id, days


def _work_order(values: dict, instance, using: str) -> set[Bucket]:
    out = set()
    for name in ("due_at", "closed_at"):
        if values[name] is not None:
            out.add((local_day(values[name]), values["unit_id"]))
    return out


def _rating(values: dict, instance, using: str) -> set[Bucket]:
    if values["rated_at"] is None:
        return set()
    return {(local_day(values["rated_at"]), values["unit_id"])}


def _callback(values: dict, instance, using: str) -> set[Bucket]:
    from surveys.models import Rating

    row = Rating.objects.using(using).filter(pk=values["rating_id"]).values_list("rated_at", "unit_id").first()
    return {(local_day(row[0]), row[1])} if row else set()


def _sms_bucket(sms_id: int | None, using: str) -> set[Bucket]:
    from sms.choices import SmsPurpose
    from sms.models import OutboundSms

    if sms_id is None:
        return set()
    row = (
        OutboundSms.objects.using(using)
        .filter(pk=sms_id, purpose=SmsPurpose.EVALUATION, sent_at__isnull=False, service_record__isnull=False)
        .values_list("sent_at", "service_record__unit_id")
        .first()
    )
    return {(local_day(row[0]), row[1])} if row else set()


def _outbound(values: dict, instance, using: str) -> set[Bucket]:
    from sms.choices import SmsPurpose
    from surveys.models import ServiceRecord

    if values["purpose"] != SmsPurpose.EVALUATION or values["sent_at"] is None or values["service_record_id"] is None:
        return set()
    record = instance._state.fields_cache.get("service_record")
    if record is not None and record.pk == values["service_record_id"]:
        unit_id = record.unit_id
    else:
        unit_id = (
            ServiceRecord.objects.using(using)
            .filter(pk=values["service_record_id"])
            .values_list("unit_id", flat=True)
            .first()
        )
    return {(local_day(values["sent_at"]), unit_id)}


def _outbound_key(values: dict) -> tuple:
    """What an evaluation SMS counts by: a move between two not-counted statuses marks nothing."""
    from sms.choices import SmsStatus

    return (
        values["purpose"],
        values["service_record_id"],
        values["sent_at"],
        values["status"] == SmsStatus.DELIVERED,
    )


def _inbound(values: dict, instance, using: str) -> set[Bucket]:
    return _sms_bucket(values["matched_sms_id"], using)


def _service_record(values: dict, instance, using: str) -> set[Bucket]:
    from sms.choices import SmsPurpose
    from sms.models import OutboundSms

    return {
        (local_day(sent_at), values["unit_id"])
        for sent_at in OutboundSms.objects.using(using)
        .filter(service_record_id=instance.pk, purpose=SmsPurpose.EVALUATION, sent_at__isnull=False)
        .values_list("sent_at", flat=True)
    }


class Watch:
    """One watched model: the fields that count, and the buckets a set of their values touches."""

    def __init__(
        self,
        model,
        fields: tuple[str, ...],
        buckets: Callable[[dict, object, str], set[Bucket]],
        key: Callable[[dict], tuple] | None = None,
    ):
        self.model = model
        self.fields = fields
        self.attnames = tuple(model._meta.get_field(f).attname for f in fields)
        self.buckets = buckets
        self.key = key or (lambda values: tuple(values[a] for a in self.attnames))

    def values(self, instance) -> dict:
        return {a: instance.__dict__.get(a, _MISSING) for a in self.attnames}

    def on_init(self, sender, instance, **kwargs) -> None:
        instance.__dict__[_SNAPSHOT] = self.values(instance)

    def on_pre_save(self, sender, instance, raw=False, using="default", update_fields=None, **kwargs) -> None:
        before = instance.__dict__.get(_SNAPSHOT)
        if instance.pk is None or before is None:
            return
        if any(v is _MISSING for v in before.values()):
            # Loaded with deferred fields: read what is stored before it is overwritten.
            row = type(instance)._default_manager.using(using).filter(pk=instance.pk).values(*self.attnames).first()
            instance.__dict__[_SNAPSHOT] = row if row is not None else dict.fromkeys(self.attnames)

    def on_post_save(self, sender, instance, created=False, raw=False, using="default", update_fields=None, **kwargs):
        if raw:
            return
        if update_fields is not None and not set(update_fields) & set(self.fields + self.attnames):
            return
        after = self.values(instance)
        before = None if created else instance.__dict__.get(_SNAPSHOT)
        instance.__dict__[_SNAPSHOT] = after
        if before is not None and self.key(before) == self.key(after):
            return
        touched = self.buckets(after, instance, using)
        if before is not None:
            touched |= self.buckets(before, instance, using) | self.extra(before, after, instance, using)
        mark(touched, using=using)

    def extra(self, before, after, instance, using) -> set[Bucket]:
        return set()

    def on_delete(self, sender, instance, using="default", **kwargs) -> None:
        values = instance.__dict__.get(_SNAPSHOT) or self.values(instance)
        if any(v is _MISSING for v in values.values()):
            return
        mark(self.buckets(values, instance, using) | self.extra(values, None, instance, using), using=using)

    def connect(self) -> None:
        uid = f"analytics-{self.model._meta.label_lower}"
        post_init.connect(self.on_init, sender=self.model, weak=False, dispatch_uid=uid)
        pre_save.connect(self.on_pre_save, sender=self.model, weak=False, dispatch_uid=uid)
        pre_delete.connect(self.on_pre_save, sender=self.model, weak=False, dispatch_uid=uid)
        post_save.connect(self.on_post_save, sender=self.model, weak=False, dispatch_uid=uid)
        post_delete.connect(self.on_delete, sender=self.model, weak=False, dispatch_uid=uid)


class AppealWatch(Watch):
    def extra(self, before, after, instance, using) -> set[Bucket]:
        """An appeal that moves (unit, receipt, channel) carries its escalation days along."""
        from workorders.choices import Action
        from workorders.models import WorkOrderEvent

        if before is None or after is None:
            return set()
        if (before["unit_id"], before["channel"], before["received_at"]) == (
            after["unit_id"],
            after["channel"],
            after["received_at"],
        ):
            return set()
        days = {
            local_day(w)
            for w in WorkOrderEvent.objects.using(using)
            .filter(order__appeal_id=instance.pk, action=Action.REOPEN)
            .values_list("created_at", flat=True)
        }
        for values in (before, after):
            if values["received_at"] is not None:
                days.add(local_day(values["received_at"]))
        return {(d, v["unit_id"]) for d in days for v in (before, after)}


def _reopen_event(sender, instance, created=False, raw=False, using="default", **kwargs) -> None:
    """A reopen (重新办理) is an escalation of the appeal: mark every escalation day of it (a new
    one changes which later day is the first of a period)."""
    from workorders.choices import Action

    if raw or instance.action != Action.REOPEN or not (created or kwargs.get("signal") is post_delete):
        return
    found = _escalation_days(instance.order.appeal_id, using)
    if found:
        unit_id, days = found
        days.add(local_day(instance.created_at))
        mark({(d, unit_id) for d in days}, using=using)


def _unit_moved_init(sender, instance, **kwargs) -> None:
    instance.__dict__["_analytics_path"] = instance.__dict__.get("path", _MISSING)


def _unit_moved(sender, instance, created=False, raw=False, using="default", **kwargs) -> None:
    """A unit moved in the tree: its subtree's rows (stored under the old path) are recomputed, and
    with them the subtree rows of the old and new ancestors."""
    from .models import AggregateMark, UnitDayFigures

    old = instance.__dict__.get("_analytics_path", _MISSING)
    instance.__dict__["_analytics_path"] = instance.path
    if raw or created or old is _MISSING or not old or old == instance.path:
        return
    if connections[using].vendor != "postgresql":
        rows = UnitDayFigures.objects.using(using).filter(path__startswith=old).values_list("day", "unit_id")
        mark(set(rows), using=using)
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {AggregateMark._meta.db_table} (day, unit_id, marked_at)
                SELECT DISTINCT day, unit_id, now() FROM {UnitDayFigures._meta.db_table}
                WHERE path LIKE %s""",
            [old + "%"],  # a path is digits and slashes
        )


def _appeals_written(sender, appeal_ids, using="default", **kwargs) -> None:
    """Appeals written by bulk SQL (the COPY import): mark their (day, unit) buckets in one statement."""
    from django.conf import settings

    from intake.models import Appeal

    from .models import AggregateMark

    if connections[using].vendor != "postgresql":
        rows = Appeal.objects.using(using).filter(pk__in=list(appeal_ids)).values_list("received_at", "unit_id")
        mark({(local_day(received), unit_id) for received, unit_id in rows if received}, using=using)
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {AggregateMark._meta.db_table} (day, unit_id, marked_at)
                SELECT DISTINCT (received_at AT TIME ZONE %s)::date, unit_id, now()
                FROM {Appeal._meta.db_table} WHERE id = ANY(%s)""",
            [settings.TIME_ZONE, list(appeal_ids)],
        )


def connect() -> None:
    """Watch every model a figure of SPEC §9 is counted from (called once by the app config)."""
    from intake.models import Appeal
    from intake.signals import appeals_written
    from sms.models import InboundSms, OutboundSms
    from surveys.models import Callback, Rating, ServiceRecord
    from units.models import Unit
    from workorders.models import WorkOrder, WorkOrderEvent

    AppealWatch(Appeal, ("unit", "received_at", "channel", "severity", "category", "is_repeat"), _appeal).connect()
    Watch(WorkOrder, ("unit", "status", "due_at", "closed_at", "closed_on_time"), _work_order).connect()
    Watch(Rating, ("unit", "verdict", "rated_at"), _rating).connect()
    Watch(Callback, ("rating", "verdict", "closed_at"), _callback).connect()
    Watch(OutboundSms, ("purpose", "service_record", "sent_at", "status"), _outbound, key=_outbound_key).connect()
    Watch(InboundSms, ("matched_sms",), _inbound).connect()
    Watch(ServiceRecord, ("unit",), _service_record).connect()
    post_save.connect(_reopen_event, sender=WorkOrderEvent, weak=False, dispatch_uid="analytics-reopen")
    post_delete.connect(_reopen_event, sender=WorkOrderEvent, weak=False, dispatch_uid="analytics-reopen-delete")
    post_init.connect(_unit_moved_init, sender=Unit, weak=False, dispatch_uid="analytics-unit-init")
    post_save.connect(_unit_moved, sender=Unit, weak=False, dispatch_uid="analytics-unit-moved")
    appeals_written.connect(_appeals_written, weak=False, dispatch_uid="analytics-appeals-written")
