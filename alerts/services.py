"""Early warning: the three detectors, raising/updating alerts, and the moves of an alert.

``run_detectors(now=...)`` is what the beat job calls every few minutes; each detector reads only
the appeals of its sliding window (``received_at`` range, the ``appeal_received_idx`` index) and
what it needs beside them (the surge baseline of the candidate places, the unsatisfied ratings of
the window's callers). The methods and their parameters are in docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from intake import similarity
from intake.choices import Severity
from intake.models import Appeal
from units.errors import Refused
from units.models import Notification, User
from units.roles import center_staff, leaders_of
from units.services import notify
from units.transitions import transition

from . import baseline, permissions
from .choices import MOVES, OPEN_STATES, AlertState, Detector
from .models import Alert, AlertEvent, AlertEvidence, WarningRule
from .places import place_key

# The parameters a detector starts with when its rule row does not exist yet.
DEFAULTS: dict[str, dict] = {
    Detector.SURGE: {"window_hours": 24, "baseline_days": 28, "p_value": 0.001, "min_count": 5},
    Detector.CALLER: {"window_hours": 168, "baseline_days": 30, "min_channels": 3},
    Detector.GROUP: {"window_hours": 6, "min_count": 5, "similarity": 0.5},
}
# A place with no history is treated as having had half an appeal over the baseline: without a
# floor any first appeal would be "infinitely" above a zero mean.
EMPTY_BASELINE = 0.5

# Who may make which move: ``alerts.permissions`` (the roles kept here for the callers of old).
HANDLERS, LISTERS, READERS = permissions.HANDLERS, permissions.LISTERS, permissions.READERS


def rule_for(detector: str) -> WarningRule:
    """The detector's rule row, created with the default parameters the first time."""
    rule, _created = WarningRule.objects.get_or_create(detector=detector, defaults=DEFAULTS[detector])
    return rule


# --------------------------------------------------------------------------------------------
# Statistics


def poisson_sf(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 1.0
    term = math.exp(-mu)
    below = term
    for i in range(1, k):
        term *= mu / i
        below += term
    return max(0.0, 1.0 - below)


def poisson_threshold(mu: float, p: float) -> int:
    """The smallest count k with P(X >= k) < p: seeing k or more is that unlikely by chance."""
    k = max(1, int(mu))
    while poisson_sf(k, mu) >= p:
        k += 1
    return k


# --------------------------------------------------------------------------------------------
# Raising


@dataclass
class Finding:
    """What a detector found about one matter, before it becomes (or updates) an alert."""

    detector: str
    key: str
    title: str
    summary: str
    appeal_ids: list[int]
    place: str = ""
    category_id: int | None = None
    unit_id: int | None = None
    observed: int = 0
    expected: float | None = None
    threshold: int | None = None
    extra: dict = field(default_factory=dict)


def raise_alert(finding: Finding, *, now: dt.datetime, rule: WarningRule) -> tuple[Alert | None, bool]:
    """Open an alert for the finding, or add its new evidence to the open alert of the same matter.

    Steps: lock the open alert of (detector, key) if any; keep only appeals not yet evidence of
    an alert of this matter (a handled alert's appeals do not raise it again); create the alert
    (a racing run's insert makes the unique constraint fail: then lock and update that one) or
    update the counts; write the timeline row; tell the center and the unit's leaders on creation.
    Returns (alert, created); (None, False) when there is nothing new.
    """
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update()
            .filter(detector=finding.detector, key=finding.key, state__in=OPEN_STATES)
            .first()
        )
        known = set(
            AlertEvidence.objects.filter(
                alert__detector=finding.detector, alert__key=finding.key, appeal_id__in=finding.appeal_ids
            ).values_list("appeal_id", flat=True)
        )
        fresh = [pk for pk in finding.appeal_ids if pk not in known]
        if not fresh:
            return alert, False
        created = False
        if alert is None:
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        detector=finding.detector,
                        key=finding.key,
                        raised_at=now,
                        updated_at=now,
                        **_figures(finding),
                    )
                created = True
            except IntegrityError:
                alert = Alert.objects.select_for_update().get(
                    detector=finding.detector, key=finding.key, state__in=OPEN_STATES
                )
        if not created:
            for name, value in _figures(finding).items():
                setattr(alert, name, value)
            alert.updated_at = now
            alert.save()
        AlertEvidence.objects.bulk_create(
            [AlertEvidence(alert=alert, appeal_id=pk, added_at=now) for pk in fresh], ignore_conflicts=True
        )
        AlertEvent.objects.create(
            alert=alert,
            action="raised" if created else "evidence",
            to_status=alert.state if created else "",
            note=finding.summary
            if created
            else _("新增证据 %(n)d 件：%(summary)s") % {"n": len(fresh), "summary": finding.summary},
            created_at=now,
        )
        if created:
            _tell(alert, rule=rule)
    return alert, created


def _figures(finding: Finding) -> dict:
    return {
        "title": finding.title[:200],
        "summary": finding.summary,
        "place": finding.place[:100],
        "category_id": finding.category_id,
        "unit_id": finding.unit_id,
        "observed": finding.observed,
        "expected": finding.expected,
        "threshold": finding.threshold,
    }


def _tell(alert: Alert, *, rule: WarningRule) -> None:
    """An urgent notification to the center's staff and, when the rule says so, the unit's leaders."""
    users = center_staff()
    if rule.notify_leaders and alert.unit_id:
        users += leaders_of(alert.unit)
    notify(
        users=users,
        text=_("预警：%(title)s") % {"title": alert.title},
        url=reverse("alerts:detail", args=[alert.pk]),
        level=Notification.Level.ALERT,
        dedupe_key=f"alert:{alert.pk}",
    )


def _main_unit(rows: Iterable[dict]) -> int | None:
    """The unit most of the appeals are with (their lead unit, else the proposed one)."""
    units = Counter(r["unit_id"] or r["proposed_unit_id"] for r in rows if r["unit_id"] or r["proposed_unit_id"])
    return units.most_common(1)[0][0] if units else None


_FIELDS = ("id", "address", "category_id", "unit_id", "proposed_unit_id", "received_at", "citizen_phone_hash")


def _window(now: dt.datetime, hours: int, *fields: str):
    """The appeals received in the window (now - hours, now], merged duplicates left out."""
    return Appeal.objects.filter(
        received_at__gt=now - dt.timedelta(hours=hours), received_at__lte=now, merged_into__isnull=True
    ).values(*_FIELDS, *fields)


# --------------------------------------------------------------------------------------------
# Detector 1: the same matter rises


def detect_surges(*, now: dt.datetime, rule: WarningRule) -> list[Finding]:
    """Places × categories whose count in the window is above their Poisson threshold.

    Baseline: the appeals of the same place and category over ``baseline_days`` days before the
    window (read from the stored daily counts, ``alerts.baseline``); its daily mean scaled to the window is the expected count mu (floored, see
    EMPTY_BASELINE). Alert when the window count k is at least the smallest k with
    P(X >= k | mu) < p_value, and at least ``min_count``.
    """
    groups: dict[tuple[str, int | None], list[dict]] = defaultdict(list)
    for row in _window(now, rule.window_hours):
        place = place_key(row["address"])[:100]
        if place:
            groups[(place, row["category_id"])].append(row)
    candidates = {key: rows for key, rows in groups.items() if len(rows) >= rule.min_count}
    if not candidates:
        return []
    window_start = now - dt.timedelta(hours=rule.window_hours)
    baseline_start = window_start - dt.timedelta(days=rule.baseline_days)
    # The stored daily counts (alerts.baseline): a bounded read per candidate, not four weeks of appeals.
    past = baseline.baseline_counts(set(candidates), start=baseline_start, end=window_start)
    baseline.prune(before=baseline.local_day(baseline_start) - dt.timedelta(days=baseline.KEEP_EXTRA_DAYS))
    findings = []
    scale = rule.window_hours / 24 / rule.baseline_days
    for (place, category_id), rows in candidates.items():
        mu = max(past[(place, category_id)], EMPTY_BASELINE) * scale
        threshold = max(poisson_threshold(mu, rule.p_value), rule.min_count)
        if len(rows) < threshold:
            continue
        category_name = _category_name(category_id)
        findings.append(
            Finding(
                detector=Detector.SURGE,
                key=f"{place}|{category_id or '-'}",
                title=_("%(place)s「%(category)s」诉求上升：%(hours)d小时%(n)d件")
                % {"place": place, "category": category_name, "hours": rule.window_hours, "n": len(rows)},
                summary=_(
                    "%(hours)d小时内%(n)d件，基线期望%(mu).2f件（前%(days)d天共%(past)d件），阈值%(k)d件（p<%(p)g）"
                )
                % {
                    "hours": rule.window_hours,
                    "n": len(rows),
                    "mu": mu,
                    "days": rule.baseline_days,
                    "past": past[(place, category_id)],
                    "k": threshold,
                    "p": rule.p_value,
                },
                appeal_ids=[r["id"] for r in rows],
                place=place,
                category_id=category_id,
                unit_id=_main_unit(rows),
                observed=len(rows),
                expected=round(mu, 3),
                threshold=threshold,
            )
        )
    return findings


def _category_name(category_id: int | None) -> str:
    from intake.models import Category

    if not category_id:
        return _("未分类")
    return Category.objects.filter(pk=category_id).values_list("name", flat=True).first() or "-"


# --------------------------------------------------------------------------------------------
# Detector 2: one caller through several channels, or escalating after an unsatisfied reply


def detect_callers(*, now: dt.datetime, rule: WarningRule) -> list[Finding]:
    """Callers (keyed phone hash) who came through ``min_channels`` channels within the window, or
    whose appeals after an unsatisfied rating (the last ``baseline_days`` days) are more severe
    than the rated one or hit risk words."""
    by_caller: dict[str, list[dict]] = defaultdict(list)
    for row in _window(now, rule.window_hours, "channel", "severity", "risk_words"):
        if row["citizen_phone_hash"]:
            by_caller[row["citizen_phone_hash"]].append(row)
    if not by_caller:
        return []
    from surveys.choices import Verdict
    from surveys.models import Rating

    ratings = Rating.objects.filter(
        verdict=Verdict.DISSATISFIED,
        rated_at__gt=now - dt.timedelta(days=rule.baseline_days),
        rated_at__lte=now,
    ).filter(Q(phone_hash__in=list(by_caller)) | Q(appeal__citizen_phone_hash__in=list(by_caller)))
    unsatisfied: dict[str, list[tuple]] = defaultdict(list)
    for phone_hash, appeal_hash, appeal_id, severity, rated_at in ratings.values_list(
        "phone_hash", "appeal__citizen_phone_hash", "appeal_id", "appeal__severity", "rated_at"
    ):
        caller = appeal_hash if appeal_hash in by_caller else phone_hash
        unsatisfied[caller].append((appeal_id, severity, rated_at))

    findings = []
    for caller, rows in by_caller.items():
        reasons, evidence = [], set()
        channels = {r["channel"] for r in rows}
        if len(channels) >= rule.min_channels:
            reasons.append(
                _("%(days)d天内经%(n)d个渠道来诉") % {"days": max(1, rule.window_hours // 24), "n": len(channels)}
            )
            evidence.update(r["id"] for r in rows)
        for rated_appeal, rated_severity, rated_at in unsatisfied.get(caller, []):
            rated_rank = Severity(rated_severity).rank if rated_severity else Severity.BLUE.rank
            later = [
                r
                for r in rows
                if r["received_at"] > rated_at
                and r["id"] != rated_appeal
                and (r["risk_words"] or Severity(r["severity"]).rank < rated_rank)
            ]
            if later:
                reasons.append(_("不满意评价后诉求升级或出现风险词（%(n)d件）") % {"n": len(later)})
                evidence.update(r["id"] for r in later)
                if rated_appeal:
                    evidence.add(rated_appeal)
        if not reasons:
            continue
        ordered = sorted(evidence)
        findings.append(
            Finding(
                detector=Detector.CALLER,
                key=caller,
                title=_("同一来电人反复来诉：%(reasons)s") % {"reasons": "；".join(reasons)},
                summary="；".join(reasons) + _("（渠道：%(channels)s）") % {"channels": "、".join(sorted(channels))},
                appeal_ids=ordered,
                unit_id=_main_unit(rows),
                observed=len(channels),
                threshold=rule.min_channels,
            )
        )
    return findings


# --------------------------------------------------------------------------------------------
# Detector 3: several callers describe one event (群体性诉求)


def detect_groups(*, now: dt.datetime, rule: WarningRule) -> list[Finding]:
    """Places where at least ``min_count`` distinct callers sent similar text within the window.

    Per place, appeals are clustered greedily in time order: each joins the first cluster whose
    first appeal's text has a character-bigram cosine (intake.similarity) of at least
    ``similarity``, else starts one. Callers are counted by phone hash (an appeal without a
    phone counts as a caller of its own). The largest cluster of a place is its finding.
    """
    by_place: dict[str, list[dict]] = defaultdict(list)
    for row in _window(now, rule.window_hours, "content", "title").order_by("received_at", "id"):
        place = place_key(row["address"])
        if place:
            by_place[place].append(row)
    findings = []
    for place, rows in by_place.items():
        if len(rows) < rule.min_count:
            continue
        clusters: list[tuple[object, list[dict]]] = []
        for row in rows:
            vec = similarity.vector(f"{row['title']}{row['content']}")
            for seed, members in clusters:
                if similarity.cosine_vectors(seed, vec) >= rule.similarity:
                    members.append(row)
                    break
            else:
                clusters.append((vec, [row]))
        best = max((members for _seed, members in clusters), key=_callers)
        callers = _callers(best)
        if callers < rule.min_count:
            continue
        findings.append(
            Finding(
                detector=Detector.GROUP,
                key=place,
                title=_("疑似群体性诉求：%(place)s %(n)d人反映同一事件") % {"place": place, "n": callers},
                summary=_("%(hours)d小时内%(n)d名诉求人（%(k)d件）反映相似内容，阈值%(min)d人，相似度≥%(s).2f")
                % {
                    "hours": rule.window_hours,
                    "n": callers,
                    "k": len(best),
                    "min": rule.min_count,
                    "s": rule.similarity,
                },
                appeal_ids=[r["id"] for r in best],
                place=place,
                unit_id=_main_unit(best),
                observed=callers,
                threshold=rule.min_count,
            )
        )
    return findings


def _callers(rows: list[dict]) -> int:
    return len({r["citizen_phone_hash"] or f"appeal:{r['id']}" for r in rows})


DETECTORS = {Detector.SURGE: detect_surges, Detector.CALLER: detect_callers, Detector.GROUP: detect_groups}


def run_detectors(*, now: dt.datetime | None = None, only: Iterable[str] | None = None) -> dict[str, int]:
    """Run every active detector over its window ending at ``now``; raise or update alerts.

    Returns, per detector, how many alerts were raised (new). Running it twice at the same moment
    raises nothing the second time (evidence already recorded).
    """
    now = now or timezone.now()
    raised: dict[str, int] = {}
    for detector, detect in DETECTORS.items():
        if only is not None and detector not in only:
            continue
        rule = rule_for(detector)
        if not rule.is_active:
            continue
        raised[detector] = 0
        for finding in detect(now=now, rule=rule):
            _alert, created = raise_alert(finding, now=now, rule=rule)
            raised[detector] += int(created)
    return raised


# --------------------------------------------------------------------------------------------
# Moves of an alert


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _move(alert: Alert, *, to: str, actor: User, note: str = "") -> Alert:
    """One move of the alert through the platform's transition helper (lock, no-op when already
    there, ``Refused`` when ``MOVES`` has no such move, save, timeline row)."""

    def apply(locked: Alert) -> None:
        if to == AlertState.HANDLED:
            locked.handled_note = note
        locked.updated_at = timezone.now()

    return transition(
        alert,
        action=to,
        actor=actor,
        to=to,
        status_field="state",
        sources={source for source, target in MOVES if target == to},
        refuse=lambda locked: Refused(_("预警当前状态不允许此操作。")),
        apply=apply,
        update_fields=["handled_note", "updated_at"],
        note=note,
    )


def mark_seen(alert: Alert, *, actor: User) -> Alert:
    """新预警 → 已查看 by anyone who may read it."""
    _require(permissions.may_mark_seen(actor, alert))
    return _move(alert, to=AlertState.SEEN, actor=actor)


def handle_alert(alert: Alert, *, actor: User, note: str) -> Alert:
    """→ 已处置, with the note saying what was done (required)."""
    _require(permissions.may_handle(actor, alert))
    if not note.strip():
        raise ValidationError(_("请填写处置说明。"))
    return _move(alert, to=AlertState.HANDLED, actor=actor, note=note.strip())


def list_for_supervision(alert: Alert, *, actor: User) -> int:
    """Flag the alert for supervision and list the open work orders of its evidence (挂牌督办).

    Returns how many work orders were listed; the flag alone stands for an alert whose appeals
    have no open order yet.
    """
    from workorders.choices import OPEN_STATUSES
    from workorders.models import WorkOrder
    from workorders.services import list_order

    _require(permissions.may_list(actor, alert))
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.is_listed:
            return 0
        locked.is_listed = True
        locked.save(update_fields=["is_listed"])
        orders = WorkOrder.objects.filter(
            appeal_id__in=AlertEvidence.objects.filter(alert=locked).values("appeal_id"),
            status__in=OPEN_STATUSES,
            is_listed=False,
        )
        reason = _("预警督办：%(title)s") % {"title": locked.title}
        listed = 0
        for order in orders:
            list_order(order, actor=actor, reason=reason)
            listed += 1
        AlertEvent.objects.create(
            alert=locked, action="listed", actor=actor, note=_("挂牌督办，工单%(n)d件") % {"n": listed}
        )
    return listed
