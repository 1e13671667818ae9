"""The metrics of SPEC §9, per unit and period, with the unit subtree rolled up.

Pure read functions: each metric is a ratio (numerator / denominator) computed over a half-open
local period [start, end). Every source table is read with ONE grouped query
(``GROUP BY unit``) whatever the number of units; the subtree roll-up (a district's figures
include its stations) is then a sum in Python over the unit paths. No query runs per unit.

Definitions (the exact ones of SPEC §9; the choices the SPEC leaves open are stated here):

- 满意率 satisfaction = (satisfied + w × basically satisfied) / ratings with a verdict
  (satisfied, basically satisfied, dissatisfied; "declined to rate" is not a verdict). Ratings
  count in the period of ``rated_at`` and for the rated unit. ``w`` is
  ``ANALYTICS_BASIC_SATISFIED_WEIGHT`` (default 1.0).
- 办结率 completion = work orders due in the period (``due_at`` in the period) that are closed /
  work orders due in the period. Orders handed back as misrouted (退单) are not the unit's and
  count nowhere.
- 按期办结率 on-time = orders closed in the period (``closed_at``) on or before their deadline
  (``closed_on_time``, set by the work-order service from the feedback time) / orders closed in
  the period.
- 不满意事项化解率 resolution = dissatisfied ratings of the period whose callback closed with a
  verdict in ``ANALYTICS_RESOLVED_VERDICTS`` (default: resolved 已化解) / dissatisfied ratings
  of the period.
- 重复投诉率 repeat = appeals received in the period flagged as repeat / appeals received in the
  period (by the appeal's responsible unit; appeals not yet dispatched only count city-wide).
- 回复率 reply = evaluation SMS sent in the period that got a reply / those delivered (status
  delivered, or answered — an answer proves delivery even if the status report was lost).
- 升级投诉 escalations = distinct appeals that reached supervision after we failed: appeals from
  the 12389 police-supervision hotline received in the period, plus appeals whose work order was
  reopened (重新办理) in the period. The ranking uses the escalation rate = escalations / appeals.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q

from units.models import Unit

from .periods import Period

# The raw counters summed over a subtree; each metric is a ratio of two of them.
COUNTERS = (
    "satisfied",
    "basic",
    "dissatisfied",
    "declined",
    "dissatisfied_resolved",
    "due",
    "due_closed",
    "closed",
    "closed_on_time",
    "appeals",
    "repeat",
    "escalations",
    "sms_delivered",
    "sms_replied",
)


class Ratio(NamedTuple):
    """numerator / denominator; ``rate`` is None when there is nothing to measure."""

    num: float
    den: int

    @property
    def rate(self) -> float | None:
        return self.num / self.den if self.den else None

    def as_dict(self) -> dict:
        return {"num": self.num, "den": self.den, "rate": self.num / self.den if self.den else None}


@dataclass
class UnitMetrics:
    """The counters of one unit (its whole subtree) for one period, and the metrics derived from them.

    A red/black list scores and keeps the figures of every station of a province (8,000 and more)
    at once, so the counters are read with ``dict.get`` (a missing key of a ``Counter`` goes
    through a Python-level ``__missing__``) and all seven ratios are built in one pass
    (``ratios``)."""

    unit_id: int | None
    counts: Counter = field(default_factory=Counter)
    basic_weight: float = 1.0

    def ratios(self) -> dict[str, Ratio]:
        """Every metric of ``METRIC_LABELS``, keyed as there."""
        get = self.counts.get
        satisfied, basic, dissatisfied = get("satisfied", 0), get("basic", 0), get("dissatisfied", 0)
        appeals = get("appeals", 0)
        return {
            "satisfaction": Ratio(satisfied + self.basic_weight * basic, satisfied + basic + dissatisfied),
            "completion": Ratio(get("due_closed", 0), get("due", 0)),
            "on_time": Ratio(get("closed_on_time", 0), get("closed", 0)),
            "resolution": Ratio(get("dissatisfied_resolved", 0), dissatisfied),
            "repeat": Ratio(get("repeat", 0), appeals),
            "reply": Ratio(get("sms_replied", 0), get("sms_delivered", 0)),
            "escalation": Ratio(get("escalations", 0), appeals),
        }

    @property
    def ratings(self) -> int:
        get = self.counts.get
        return get("satisfied", 0) + get("basic", 0) + get("dissatisfied", 0)

    # Each metric is its entry of ``ratios()``: the definitions are written once, there.
    @property
    def satisfaction(self) -> Ratio:
        return self.ratios()["satisfaction"]

    @property
    def completion(self) -> Ratio:
        return self.ratios()["completion"]

    @property
    def on_time(self) -> Ratio:
        return self.ratios()["on_time"]

    @property
    def resolution(self) -> Ratio:
        return self.ratios()["resolution"]

    @property
    def repeat(self) -> Ratio:
        return self.ratios()["repeat"]

    @property
    def reply(self) -> Ratio:
        return self.ratios()["reply"]

    @property
    def escalation(self) -> Ratio:
        return self.ratios()["escalation"]

    @property
    def escalations(self) -> int:
        return self.counts.get("escalations", 0)

    @property
    def appeals(self) -> int:
        return self.counts.get("appeals", 0)

    @property
    def sample(self) -> int:
        """Evidence behind a unit's score: ratings with a verdict plus work orders due."""
        return self.ratings + self.counts.get("due", 0)

    def metric(self, key: str) -> Ratio:
        return getattr(self, key)

    def as_dict(self, ratios: dict[str, Ratio] | None = None) -> dict:
        """JSON-ready figures (what rankings and bulletins store); ``ratios`` when already built."""
        ratios = self.ratios() if ratios is None else ratios
        get = self.counts.get
        out: dict = {"counts": {k: get(k, 0) for k in COUNTERS}}
        for key, ratio in ratios.items():
            out[key] = ratio.as_dict()
        ratings = ratios["satisfaction"].den
        out.update(
            escalations=get("escalations", 0),
            appeals=get("appeals", 0),
            ratings=ratings,
            sample=ratings + get("due", 0),
        )
        return out


def basic_weight() -> float:
    return float(settings.ANALYTICS_BASIC_SATISFIED_WEIGHT)


def leaf_counts(period: Period, *, within: Unit | None = None) -> dict[int | None, Counter]:
    """Counters per owning unit id (None: not yet owned by a unit), one grouped query per source."""
    from intake.choices import Channel
    from intake.models import Appeal
    from sms.choices import SmsPurpose, SmsStatus
    from sms.models import InboundSms, OutboundSms
    from surveys.choices import Verdict
    from surveys.models import Callback, Rating
    from workorders.choices import Action, WorkOrderStatus
    from workorders.models import WorkOrder, WorkOrderEvent

    start, end = period.start, period.end
    out: dict[int | None, Counter] = defaultdict(Counter)

    def within_q(unit_field: str) -> Q:
        return Q(**{f"{unit_field}__path__startswith": within.path}) if within is not None else Q()

    def add(rows: Iterable[dict], key: str = "uid") -> None:
        for row in rows:
            uid = row.pop(key)
            for name, value in row.items():
                if value:
                    out[uid][name] += value

    resolved = Exists(
        Callback.objects.filter(
            rating=OuterRef("pk"), verdict__in=list(settings.ANALYTICS_RESOLVED_VERDICTS), closed_at__isnull=False
        )
    )
    add(
        Rating.objects.filter(within_q("unit"), rated_at__gte=start, rated_at__lt=end)
        .values(uid=F("unit_id"))
        .annotate(
            satisfied=Count("id", filter=Q(verdict=Verdict.SATISFIED)),
            basic=Count("id", filter=Q(verdict=Verdict.BASIC)),
            dissatisfied=Count("id", filter=Q(verdict=Verdict.DISSATISFIED)),
            declined=Count("id", filter=Q(verdict=Verdict.DECLINED)),
            dissatisfied_resolved=Count("id", filter=Q(resolved, verdict=Verdict.DISSATISFIED)),
        )
        .order_by()
    )

    due_q = Q(due_at__gte=start, due_at__lt=end)
    closed_q = Q(status=WorkOrderStatus.CLOSED, closed_at__gte=start, closed_at__lt=end)
    add(
        WorkOrder.objects.filter(within_q("unit"), due_q | closed_q)
        .exclude(status=WorkOrderStatus.HANDED_BACK)
        .values(uid=F("unit_id"))
        .annotate(
            due=Count("id", filter=due_q),
            due_closed=Count("id", filter=due_q & Q(status=WorkOrderStatus.CLOSED)),
            closed=Count("id", filter=closed_q),
            closed_on_time=Count("id", filter=closed_q & Q(closed_on_time=True)),
        )
        .order_by()
    )

    received_q = Q(received_at__gte=start, received_at__lt=end)
    reopened = Exists(
        WorkOrderEvent.objects.filter(
            order__appeal=OuterRef("pk"), action=Action.REOPEN, created_at__gte=start, created_at__lt=end
        )
    )
    escalated_q = Q(received_q, channel=Channel.FEED_12389) | Q(reopened)
    add(
        Appeal.objects.filter(within_q("unit"), received_q | Q(reopened))
        .values(uid=F("unit_id"))
        .annotate(
            appeals=Count("id", filter=received_q),
            repeat=Count("id", filter=received_q & Q(is_repeat=True)),
            escalations=Count("id", filter=escalated_q),
        )
        .order_by()
    )

    replied = Exists(InboundSms.objects.filter(matched_sms=OuterRef("pk")))
    add(
        OutboundSms.objects.filter(
            within_q("service_record__unit"),
            purpose=SmsPurpose.EVALUATION,
            service_record__isnull=False,
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .values(uid=F("service_record__unit_id"))
        .annotate(
            sms_delivered=Count("id", filter=Q(status=SmsStatus.DELIVERED) | Q(replied)),
            sms_replied=Count("id", filter=Q(replied)),
        )
        .order_by()
    )
    return out


def roll_up(
    leaves: dict[int | None, Counter], units: Iterable[Unit], *, weight: float | None = None
) -> dict[int, UnitMetrics]:
    """Sum the leaf counters of each unit's subtree (the unit itself and every unit below it)."""
    weight = basic_weight() if weight is None else weight
    paths = dict(Unit.objects.filter(pk__in=[k for k in leaves if k is not None]).values_list("pk", "path"))
    result: dict[int, UnitMetrics] = {}
    for unit in units:
        m = UnitMetrics(unit.pk, Counter(), weight)
        for uid, counter in leaves.items():
            if uid is not None and paths.get(uid, "").startswith(unit.path):
                m.counts.update(counter)
        result[unit.pk] = m
    return result


def unit_metrics(
    period: Period, units: Iterable[Unit], *, weight: float | None = None, within: Unit | None = None
) -> dict[int, UnitMetrics]:
    """The metrics of each unit (subtree rolled up) for the period: ``{unit.pk: UnitMetrics}``."""
    units = list(units)
    return roll_up(leaf_counts(period, within=within), units, weight=weight)


def total_metrics(period: Period, *, within: Unit | None = None, weight: float | None = None) -> UnitMetrics:
    """City-wide figures (including appeals not yet dispatched), or one subtree's when ``within``."""
    weight = basic_weight() if weight is None else weight
    total = UnitMetrics(within.pk if within else None, Counter(), weight)
    for counter in leaf_counts(period, within=within).values():
        total.counts.update(counter)
    return total
