"""Hand-made data for the analytics tests: appeals, work orders, ratings, callbacks and SMS placed
at exact local times, so that every metric has an exact expected fraction."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from analytics.periods import Period
from intake.models import Appeal
from intake.phones import phone_hash
from sms.models import InboundSms, OutboundSms
from surveys.models import BusinessType, Callback, Rating, ServiceRecord
from workorders.models import WorkOrder, WorkOrderEvent

OCTOBER = Period(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


def at(day: str, time: str = "10:00") -> dt.datetime:
    """An aware datetime at local (Asia/Shanghai) ``day`` ``time``."""
    naive = dt.datetime.fromisoformat(f"{day}T{time}")
    return timezone.make_aware(naive, timezone.get_default_timezone())


class Maker:
    """Creates rows directly: these tests are about counting, not about the moves that make them."""

    def __init__(self):
        self.seq = itertools.count(1)

    def appeal(self, *, unit=None, received_at=None, channel="hotline", is_repeat=False, content="噪音扰民", **kw):
        n = next(self.seq)
        phone = kw.pop("phone", f"+8613800{n:06d}")
        return Appeal.objects.create(
            channel=channel,
            unit=unit,
            received_at=received_at or at("2026-10-10"),
            is_repeat=is_repeat,
            content=content,
            citizen_phone=phone,
            citizen_phone_hash=phone_hash(phone),
            **kw,
        )

    def order(self, *, unit, due_at, status="dispatched", closed_at=None, closed_on_time=None, appeal=None):
        return WorkOrder.objects.create(
            appeal=appeal or self.appeal(unit=unit, received_at=due_at - dt.timedelta(days=3)),
            unit=unit,
            status=status,
            due_at=due_at,
            dispatched_at=due_at - dt.timedelta(days=3),
            closed_at=closed_at,
            closed_on_time=closed_on_time,
        )

    def reopen_event(self, order, *, when):
        return WorkOrderEvent.objects.create(
            order=order, action="reopen", from_status="closed", to_status="in_progress", created_at=when
        )

    def rating(self, *, unit, verdict, rated_at=None):
        return Rating.objects.create(unit=unit, verdict=verdict, rated_at=rated_at or at("2026-10-10"))

    def callback(self, rating, *, verdict="", closed=True):
        return Callback.objects.create(
            rating=rating,
            unit=rating.unit,
            due_at=rating.rated_at + dt.timedelta(hours=24),
            status="closed" if closed else "pending",
            verdict=verdict,
            closed_at=rating.rated_at + dt.timedelta(hours=5) if closed else None,
        )

    def evaluation_sms(self, *, unit, sent_at=None, status="delivered", replied=False):
        n = next(self.seq)
        phone = f"+8613800{n:06d}"
        record = ServiceRecord.objects.create(
            external_id=f"T-{n}",
            business_type=BusinessType.objects.get(code="110"),
            served_at=(sent_at or at("2026-10-10")) - dt.timedelta(days=1),
            unit=unit,
            citizen_phone=phone,
            citizen_phone_hash=phone_hash(phone),
        )
        sms = OutboundSms.objects.create(
            phone=phone,
            phone_hash=phone_hash(phone),
            template_code="eval_110",
            text="请评价",
            purpose="evaluation",
            service_record=record,
            status=status,
            sent_at=sent_at or at("2026-10-10"),
        )
        if replied:
            InboundSms.objects.create(
                provider="test",
                provider_message_id=f"in-{n}",
                phone=phone,
                phone_hash=phone_hash(phone),
                body="1",
                matched_sms=sms,
            )
        return sms


@pytest.fixture
def make(db):
    from surveys.catalogue import seed_defaults

    seed_defaults()
    return Maker()


@pytest.fixture(autouse=True)
def fresh_figures(settings):
    """These tests write facts and read figures at once: fold the marked buckets in on each read
    (in production the minute job does it; ``test_aggregates`` exercises that path)."""
    settings.ANALYTICS_REFRESH_ON_READ = True
