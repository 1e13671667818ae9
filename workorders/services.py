"""Work-order operations: dispatch, every move of the state machine, urging, supervision.

Views, the API, tasks and commands call these functions; nothing else changes a work order's
status. Each move is one row of ``MOVES`` and goes through ``_move``, which hands it to the
platform's one transition helper (``units.transitions.transition``):

1. locks the order row (``SELECT … FOR UPDATE``) inside a transaction,
2. checks the actor may make this move on this order (``PermissionDenied`` if not; the same rule
   as ``workorders.permissions``, which decides the buttons),
3. returns the order unchanged when it is already where the move leads (doing a move twice has
   one effect),
4. refuses with ``units.errors.Refused`` (a translated message; 409 in the API) when the state
   does not allow the move,
5. applies the change, saves, and writes the timeline event in the same transaction.

The apps below this one are called with plain imports: intake for the appeal's status, the SMS
layer for the citizen's close SMS and the staff reminders, feeds for results back to 12345/12389.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feeds.services import queue_result_delivery
from intake import services as intake_services
from intake.choices import Channel, Severity
from intake.models import Appeal
from sms import services as sms_services
from sms.choices import NoticeStep
from units import roles
from units.errors import Refused
from units.models import Unit, User
from units.roles import leaders_of, supervisors
from units.services import notify
from units.transitions import record, transition

from . import deadlines, permissions
from .choices import (
    OPEN_STATUSES,
    WITH_UNIT,
    Action,
    ContactMethod,
    ExtensionState,
    FeedbackResult,
    SupervisionKind,
    UrgeStage,
    WorkOrderStatus,
)
from .models import (
    CategoryRule,
    Consultation,
    FeedbackAttachment,
    JurisdictionRule,
    ReplyTemplate,
    SeverityPolicy,
    SupervisionRule,
    WorkOrder,
    WorkOrderEvent,
)
from .workdays import calendar_map, known_years

log = logging.getLogger(__name__)
S = WorkOrderStatus


def handlers_of_order(order: WorkOrder) -> list[User]:
    """Who hears about an order's deadline, return or extension: its handler, or, while nobody has
    signed for it, every handler of its unit."""
    return [order.handler] if order.handler else roles.handlers_of(order.unit)


# --- The table of allowed moves ------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None  # None: the status stays (extension requests and decisions)
    by: str  # "unit": the lead unit's people; "leader": its leaders; "center": center staff


_WORKING = frozenset({S.SIGNED, S.IN_PROGRESS, S.RETURNED})
MOVES: dict[str, Move] = {
    Action.SIGN: Move(frozenset({S.DISPATCHED}), S.SIGNED, "unit"),
    Action.START: Move(frozenset({S.SIGNED, S.RETURNED}), S.IN_PROGRESS, "unit"),
    Action.SUBMIT_FEEDBACK: Move(_WORKING, S.FEEDBACK_SUBMITTED, "unit"),
    Action.APPROVE: Move(frozenset({S.FEEDBACK_SUBMITTED}), S.APPROVED, "center"),
    Action.RETURN: Move(frozenset({S.FEEDBACK_SUBMITTED}), S.RETURNED, "center"),
    # To the center (handed_back), or back to the unit that sub-dispatched it (dispatched).
    Action.HAND_BACK: Move(frozenset({S.DISPATCHED, S.SIGNED, S.IN_PROGRESS}), None, "unit"),
    Action.SUB_DISPATCH: Move(frozenset({S.DISPATCHED, S.SIGNED, S.IN_PROGRESS}), S.DISPATCHED, "leader"),
    Action.REQUEST_EXTENSION: Move(_WORKING, None, "unit"),
    Action.APPROVE_EXTENSION: Move(_WORKING, None, "center"),
    Action.REFUSE_EXTENSION: Move(_WORKING, None, "center"),
    Action.CLOSE: Move(frozenset({S.APPROVED}), S.CLOSED, "center"),
    Action.REOPEN: Move(frozenset({S.CLOSED}), S.IN_PROGRESS, "center"),
}


def allowed_actions(order: WorkOrder, user: User) -> list[str]:
    """The moves this user may make on this order now (for buttons; the service re-checks)."""
    result = []
    for action, move in MOVES.items():
        if order.status not in move.sources or not permissions.may_move(user, order, move.by):
            continue
        if action == Action.REQUEST_EXTENSION and order.extension_state == ExtensionState.REQUESTED:
            continue
        if action in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION) and (
            order.extension_state != ExtensionState.REQUESTED
        ):
            continue
        if action == Action.SUB_DISPATCH and not subordinate_units(order, user):
            continue
        result.append(action)
    return result


def _refuse(order: WorkOrder, action: str) -> Refused:
    return Refused(
        _("工单当前状态为「%(status)s」，不能%(action)s。")
        % {"status": WorkOrderStatus(order.status).label, "action": Action(action).label}
    )


def _event(
    order: WorkOrder, *, action: str, actor: User | None, from_status: str | None = None, note: str = "", data=None
) -> WorkOrderEvent:
    """A timeline row of a step that is no move of ``MOVES`` (dispatch, urging, notices); with
    ``from_status`` (even "") it records a move to the order's current status."""
    return record(
        order,
        action=action,
        actor=actor,
        from_status=from_status or "",
        to_status=order.status if from_status is not None else "",
        note=note,
        data=data,
    )


def _move(
    order: WorkOrder,
    action: str,
    *,
    actor: User | None,
    note: str = "",
    apply: Callable[[WorkOrder], dict | None] | None = None,
    already: Callable[[WorkOrder], bool] | None = None,
    guard: Callable[[WorkOrder], None] | None = None,
    after: Callable[[WorkOrder], None] | None = None,
) -> WorkOrder:
    """One move of ``MOVES`` through the transition helper (see the module docstring).

    Only the order row is locked: the joined unit and appeal rows are read, not locked, so moves
    on different orders of one unit never wait for each other.
    """
    move = MOVES[action]
    return transition(
        order,
        action=action,
        actor=actor,
        to=move.target,
        sources=move.sources,
        may=lambda locked: permissions.may_move(actor, locked, move.by),
        denied=_("您无权对该工单执行此操作。"),
        already=already,
        refuse=lambda locked: _refuse(locked, action),
        guard=guard,
        apply=apply,
        after=after,
        note=note,
        related=("unit", "appeal"),
    )


# --- Deadlines ------------------------------------------------------------------------------


DEFAULT_POLICIES = {
    Severity.RED: {"sign_within_minutes": 30, "feedback_within_hours": 24, "feedback_within_working_days": None},
    Severity.ORANGE: {"sign_within_minutes": None, "feedback_within_hours": None, "feedback_within_working_days": 1},
    Severity.YELLOW: {"sign_within_minutes": None, "feedback_within_hours": None, "feedback_within_working_days": 3},
    Severity.BLUE: {"sign_within_minutes": None, "feedback_within_hours": None, "feedback_within_working_days": 5},
}


def ensure_default_policies() -> None:
    """Create the SPEC's default time limits where an administrator has not set any."""
    for severity, values in DEFAULT_POLICIES.items():
        SeverityPolicy.objects.get_or_create(severity=severity, defaults=values)


def policy_for(severity: str) -> SeverityPolicy:
    policy = SeverityPolicy.objects.filter(severity=severity).first()
    return policy or SeverityPolicy(severity=severity, **DEFAULT_POLICIES[Severity(severity)])


@dataclass(frozen=True)
class Deadlines:
    sign_deadline: datetime | None
    due_at: datetime
    provisional: bool
    # What a working-day deadline was counted from, so it can be recounted once the calendar is known.
    basis_at: datetime | None = None
    basis_days: int | None = None


def compute_deadlines(start: datetime, *, severity: str, working_days: int | None = None) -> Deadlines:
    """Sign and feedback deadlines for an order given at ``start`` (``working_days`` overrides the policy)."""
    policy = policy_for(severity)
    sign = None
    if policy.sign_within_minutes:
        sign = deadlines.add_minutes(start, policy.sign_within_minutes).at
    if working_days is None and policy.feedback_within_hours:
        due = deadlines.add_hours(start, policy.feedback_within_hours)
    else:
        days = working_days or policy.feedback_within_working_days or 5
        due = deadlines.add_working_days(start, days, calendar_map(timezone.localdate(start)))
        return Deadlines(sign, due.at, due.provisional, basis_at=start, basis_days=days)
    return Deadlines(sign, due.at, due.provisional)


def _restart_urging(order: WorkOrder, *, start: datetime, now: datetime | None = None) -> None:
    """Point the urge clock at the order's (new) deadline; stages already passed are not re-sent."""
    now = now or timezone.now()
    times = deadlines.urge_times(start, order.due_at)
    passed = sum(1 for t in times if t <= now)
    order.deadline_version += 1
    order.urge_stage = min(passed, UrgeStage.EIGHTY) if order.due_at > now else passed
    order.next_urge_at = times[order.urge_stage] if order.urge_stage < len(times) else None
    order.is_overdue = order.due_at <= now
    if not order.is_overdue:
        order.overdue_at = None


# --- Proposing the responsible unit ---------------------------------------------------------


def propose_unit(appeal: Appeal) -> Unit | None:
    """The unit the system proposes: jurisdiction rules on the address first, then the category rules."""
    address = (appeal.address or "").strip()
    if address:
        matches = [
            r
            for r in JurisdictionRule.objects.filter(is_active=True, unit__is_active=True).select_related("unit")
            if r.pattern and r.pattern in address
        ]
        if matches:
            matches.sort(key=lambda r: (r.priority, -len(r.pattern), r.pk))
            return matches[0].unit
    category = appeal.category
    while category is not None:
        rule = CategoryRule.objects.filter(category=category, is_active=True, unit__is_active=True).first()
        if rule:
            return rule.unit
        category = category.parent
    return None


# --- Dispatch -------------------------------------------------------------------------------


def _tell_intake(service: Callable, appeal: Appeal, **kwargs) -> bool:
    """Run an intake service on the order's appeal (its status and timeline) in a savepoint: the
    work order's move must not fail because the appeal's bookkeeping refused."""
    try:
        with transaction.atomic():
            service(appeal, **kwargs)
    except Exception:  # noqa: BLE001 - logged; the work order's own record stays consistent
        log.warning("intake.services.%s refused for appeal %s", service.__name__, appeal.pk, exc_info=True)
        return False
    return True


def order_url(order: WorkOrder) -> str:
    return reverse("workorders:detail", args=[order.pk])


def dispatch_appeal(
    appeal: Appeal,
    *,
    unit: Unit,
    actor: User | None,
    assisting_units: Iterable[Unit] = (),
    note: str = "",
    working_days: int | None = None,
) -> WorkOrder:
    """Make a work order of an appeal for a lead unit (and assisting units), with its deadlines.

    Idempotent: an appeal that already has an open order for that unit gets that order back.
    Steps: lock the appeal row (so two dispatches of one appeal queue), look for an open order for
    the unit, create the order with its deadlines and the first timeline event, tell the appeal
    (intake) and the unit's people, and apply the supervision rules.
    """
    if actor is not None and not permissions.may_dispatch(actor):
        raise PermissionDenied(_("只有中心坐席可以派单。"))
    if not unit.is_active:
        raise Refused(_("单位「%(unit)s」已停用，不能派单。") % {"unit": unit.name})
    if working_days is not None and not 1 <= working_days <= 60:
        raise ValidationError({"working_days": _("办理时限应为 1 至 60 个工作日。")})
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status == "merged":
            raise Refused(_("该诉求已合并到其他诉求，不能派单。"))
        open_orders = list(WorkOrder.objects.filter(appeal=appeal, status__in=OPEN_STATUSES))
        for existing in open_orders:
            if existing.unit_id == unit.pk:
                return existing
        if open_orders:
            raise Refused(
                _("该诉求已有办理中的工单 %(number)s（%(unit)s）；如派错单位，请由承办单位退单后重新派单。")
                % {"number": open_orders[0].number, "unit": open_orders[0].unit.name}
            )
        if appeal.status == "closed":
            raise Refused(_("该诉求已办结；群众不满意属实的，请在原工单上“重新办理”。"))
        now = timezone.now()
        limits = compute_deadlines(now, severity=appeal.severity, working_days=working_days)
        order = WorkOrder.objects.create(
            appeal=appeal,
            unit=unit,
            severity=appeal.severity,
            note=note,
            dispatched_at=now,
            dispatched_by=actor,
            working_days=working_days,
            sign_deadline=limits.sign_deadline,
            due_at=limits.due_at,
            deadline_provisional=limits.provisional,
            due_basis_at=limits.basis_at,
            due_basis_days=limits.basis_days,
            next_urge_at=deadlines.urge_times(now, limits.due_at)[0],
        )
        order.number = f"GD{timezone.localdate(now):%Y%m%d}{order.pk:05d}"
        order.save(update_fields=["number"])
        assisting = [u for u in assisting_units if u.pk != unit.pk]
        order.assisting_units.set(assisting)
        order.status = S.DISPATCHED
        _event(
            order,
            action=Action.DISPATCH,
            actor=actor,
            from_status="",
            note=note,
            data={"unit": unit.name, "assisting": [u.name for u in assisting], "due_at": order.due_at.isoformat()},
        )
        _tell_intake(intake_services.mark_dispatched, appeal, unit=unit, actor=actor, note=note)
        notify(
            users=roles.handlers_of(unit) + [u for a in assisting for u in roles.handlers_of(a)],
            text=_("新工单 %(number)s：%(title)s") % {"number": order.number, "title": _appeal_title(appeal)},
            url=order_url(order),
            dedupe_key=f"wo-dispatch:{order.pk}:{unit.pk}",
        )
        apply_supervision_rules(orders=WorkOrder.objects.filter(pk=order.pk))
        # 转办短信: once per work order (a repeated dispatch returns the same order; a new dispatch
        # after a hand-back is a new order and tells the citizen of the new unit).
        sms_services.notify_step(
            appeal=appeal,
            step=NoticeStep.DISPATCH,
            params={"code": appeal.tracking_code, "unit": unit.name},
            dedupe_key=f"appeal-dispatched:{order.pk}",
        )
        if limits.provisional:
            warn_missing_calendar()
    return order


def _appeal_title(appeal: Appeal) -> str:
    return appeal.title or (appeal.content or "")[:30]


# --- The moves ------------------------------------------------------------------------------


def sign_for(order: WorkOrder, *, actor: User) -> WorkOrder:
    """签收: the unit takes the order; the signer becomes its handler."""

    def apply(o: WorkOrder):
        o.signed_at = timezone.now()
        o.handler = actor

    return _move(order, Action.SIGN, actor=actor, apply=apply)


def start(order: WorkOrder, *, actor: User) -> WorkOrder:
    """开始办理 (also after a return for rework)."""

    def apply(o: WorkOrder):
        if o.handler_id is None:
            o.handler = actor

    return _move(order, Action.START, actor=actor, apply=apply)


ATTACHMENT_EXTENSIONS = {
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".txt",
    ".mp3",
    ".m4a",
}


def validate_attachments(files: Sequence) -> None:
    limit = settings.WORKORDERS_ATTACHMENT_MAX_MB * 1024 * 1024
    if len(files) > settings.WORKORDERS_ATTACHMENT_MAX_FILES:
        raise ValidationError(
            {"attachments": _("附件最多 %(n)d 个。") % {"n": settings.WORKORDERS_ATTACHMENT_MAX_FILES}}
        )
    for f in files:
        ext = os.path.splitext(f.name or "")[1].lower()
        if ext not in ATTACHMENT_EXTENSIONS:
            raise ValidationError({"attachments": _("不支持的附件类型：%(name)s") % {"name": f.name}})
        if f.size > limit:
            raise ValidationError(
                {
                    "attachments": _("附件「%(name)s」超过 %(mb)d MB。")
                    % {"name": f.name, "mb": settings.WORKORDERS_ATTACHMENT_MAX_MB}
                }
            )


def submit_feedback(
    order: WorkOrder,
    *,
    actor: User,
    text: str,
    result: str,
    contact_method: str,
    contacted_at: datetime | None = None,
    attachments: Sequence = (),
) -> WorkOrder:
    """办结反馈: what was done, the result, the contact made with the citizen, attachments."""
    errors = {}
    if not (text or "").strip():
        errors["text"] = _("请填写办理情况。")
    if result not in FeedbackResult.values:
        errors["result"] = _("请选择办理结果。")
    if contact_method not in ContactMethod.values:
        errors["contact_method"] = _("请选择联系群众的方式。")
    if errors:
        raise ValidationError(errors)
    validate_attachments(attachments)

    def apply(o: WorkOrder):
        now = timezone.now()
        o.feedback_text = text.strip()
        o.feedback_result = result
        o.contact_method = contact_method
        o.contacted_at = contacted_at
        o.feedback_at = now
        if o.handler_id is None:
            o.handler = actor
        if o.extension_state == ExtensionState.REQUESTED:
            o.extension_state = ExtensionState.NONE
        if now > o.due_at and not o.is_overdue:
            o.is_overdue, o.overdue_at = True, now
        for f in attachments:
            FeedbackAttachment.objects.create(order=o, file=f, name=f.name[:200], size=f.size, uploaded_by=actor)
        return {"result": result, "contact_method": contact_method, "attachments": [f.name for f in attachments]}

    def after(o: WorkOrder):
        notify(
            users=roles.center_staff(),
            text=_("工单 %(number)s 已提交办结反馈，待审核。") % {"number": o.number},
            url=order_url(o),
            dedupe_key=f"wo-feedback:{o.pk}:{o.return_count}:{o.reopen_count}",
        )

    return _move(order, Action.SUBMIT_FEEDBACK, actor=actor, note=text.strip(), apply=apply, after=after)


def approve(order: WorkOrder, *, actor: User, note: str = "") -> WorkOrder:
    """审核通过: the center accepts the unit's feedback (closing is the next move)."""
    return _move(order, Action.APPROVE, actor=actor, note=note)


def return_for_rework(order: WorkOrder, *, actor: User, reason: str, working_days: int | None = None) -> WorkOrder:
    """退回重办: the feedback is not good enough; the unit gets a new deadline for the rework."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写退回理由。")})

    def apply(o: WorkOrder):
        now = timezone.now()
        o.return_count += 1
        limits = compute_deadlines(now, severity=o.severity, working_days=working_days or o.working_days)
        o.due_at, o.deadline_provisional = limits.due_at, limits.provisional
        o.due_basis_at, o.due_basis_days = limits.basis_at, limits.basis_days
        _restart_urging(o, start=now, now=now)
        return {"due_at": o.due_at.isoformat()}

    def after(o: WorkOrder):
        notify(
            users=handlers_of_order(o),
            text=_("工单 %(number)s 被退回重办：%(reason)s") % {"number": o.number, "reason": reason},
            url=order_url(o),
            dedupe_key=f"wo-return:{o.pk}:{o.return_count}",
        )

    return _move(order, Action.RETURN, actor=actor, note=reason.strip(), apply=apply, after=after)


def _sub_dispatcher(order: WorkOrder) -> Unit | None:
    """The unit that sub-dispatched the order to where it is now (if that is how it got there)."""
    last = order.events.filter(action=Action.SUB_DISPATCH).order_by("-created_at", "-id").first()
    if last is None or last.data.get("to_unit_id") != order.unit_id:
        return None
    return Unit.objects.filter(pk=last.data.get("from_unit_id"), is_active=True).first()


def hand_back(order: WorkOrder, *, actor: User, reason: str) -> WorkOrder:
    """退单: the unit says the order is not theirs.

    An order a leader sub-dispatched goes back to that leader's unit (it knows its stations and
    re-routes it); any other goes back to the center, and the appeal to the dispatch desk.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写退单理由。")})
    outcome: dict = {}

    def apply(o: WorkOrder):
        o.handback_reason = reason.strip()
        upper = _sub_dispatcher(o)
        outcome["from_unit"] = o.unit
        outcome["upper"] = upper
        if upper is not None:
            o.unit, o.status = upper, S.DISPATCHED
            o.signed_at, o.handler, o.sign_late_notified_at = None, None, None
            return {"from_unit": outcome["from_unit"].name, "to_unit": upper.name, "to_unit_id": upper.pk}
        o.status = S.HANDED_BACK
        o.next_urge_at = None
        return {"from_unit": o.unit.name}

    def after(o: WorkOrder):
        text = _("工单 %(number)s 被%(unit)s退单：%(reason)s") % {
            "number": o.number,
            "unit": outcome["from_unit"].name,
            "reason": reason,
        }
        upper = outcome["upper"]
        if upper is not None:
            _tell_intake(intake_services.mark_dispatched, o.appeal, unit=upper, actor=actor, note=reason)
            notify(
                users=leaders_of(upper) or roles.handlers_of(upper),
                text=text,
                url=order_url(o),
                dedupe_key=f"wo-handback:{o.pk}:{outcome['from_unit'].pk}",
            )
            return
        # The appeal goes back to the triage desk; intake owns that status.
        _tell_intake(
            intake_services.mark_for_dispatch,
            o.appeal,
            actor=actor,
            note=_("%(unit)s退单：%(reason)s") % {"unit": outcome["from_unit"].name, "reason": reason},
        )
        notify(
            users=roles.center_staff(),
            text=text,
            url=order_url(o),
            dedupe_key=f"wo-handback:{o.pk}",
        )

    return _move(
        order,
        Action.HAND_BACK,
        actor=actor,
        note=reason.strip(),
        already=lambda o: o.status == S.HANDED_BACK,
        apply=apply,
        after=after,
    )


def subordinate_units(order: WorkOrder, user: User) -> list[Unit]:
    """Units a leader may sub-dispatch this order to: any active unit below his own (so a district
    leader can also move an order from one of his stations to another), except where it is now."""
    if not permissions.may_sub_dispatch(user, order):
        return []
    return list(Unit.objects.below(user.unit).exclude(pk__in=[user.unit_id, order.unit_id]).filter(is_active=True))


def sub_dispatch(order: WorkOrder, *, actor: User, unit: Unit, note: str = "") -> WorkOrder:
    """转派: a leader hands the order to a unit below (the deadline stays)."""

    def already(o: WorkOrder) -> bool:
        return (
            o.status == S.DISPATCHED
            and o.unit_id == unit.pk
            and o.events.filter(action=Action.SUB_DISPATCH, data__to_unit_id=unit.pk).exists()
        )

    def guard(o: WorkOrder) -> None:
        if unit.pk in (o.unit_id, actor.unit_id) or not unit.is_under(actor.unit) or not unit.is_active:
            raise Refused(_("只能转派给本单位的下级单位。"))

    def apply(o: WorkOrder):
        previous = o.unit
        o.unit = unit
        o.signed_at = None
        o.handler = None
        o.sign_late_notified_at = None
        # The new unit gets the policy's full time to sign; the feedback deadline stays.
        minutes = policy_for(o.severity).sign_within_minutes
        o.sign_deadline = deadlines.add_minutes(timezone.now(), minutes).at if minutes else None
        return {"from_unit": previous.name, "from_unit_id": previous.pk, "to_unit": unit.name, "to_unit_id": unit.pk}

    def after(o: WorkOrder):
        notify(
            users=roles.handlers_of(unit),
            text=_("新工单 %(number)s（上级转派）：%(title)s") % {"number": o.number, "title": _appeal_title(o.appeal)},
            url=order_url(o),
            dedupe_key=f"wo-subdispatch:{o.pk}:{o.events.filter(action=Action.SUB_DISPATCH).count()}",
        )
        # The appeal's lead unit follows the order, so the new unit sees the appeal too.
        _tell_intake(intake_services.mark_dispatched, o.appeal, unit=unit, actor=actor, note=note)

    return _move(
        order, Action.SUB_DISPATCH, actor=actor, note=note, already=already, guard=guard, apply=apply, after=after
    )


def request_extension(order: WorkOrder, *, actor: User, days: int, reason: str) -> WorkOrder:
    """延期申请: the unit asks the center for more working days."""
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = _("请填写延期理由。")
    if not isinstance(days, int) or not 1 <= days <= settings.WORKORDERS_MAX_EXTENSION_DAYS:
        errors["days"] = _("延期天数应为 1 至 %(n)d 个工作日。") % {"n": settings.WORKORDERS_MAX_EXTENSION_DAYS}
    if errors:
        raise ValidationError(errors)

    def already(o: WorkOrder) -> bool:
        return o.extension_state == ExtensionState.REQUESTED and o.extension_days == days

    def guard(o: WorkOrder) -> None:
        if o.extension_state == ExtensionState.REQUESTED:
            raise Refused(_("已有待审批的延期申请。"))

    def apply(o: WorkOrder):
        o.extension_state, o.extension_days, o.extension_reason = ExtensionState.REQUESTED, days, reason.strip()
        return {"days": days}

    def after(o: WorkOrder):
        notify(
            users=roles.center_staff(),
            text=_("工单 %(number)s 申请延期 %(days)d 个工作日。") % {"number": o.number, "days": days},
            url=order_url(o),
            dedupe_key=f"wo-ext:{o.pk}:{o.deadline_version}",
        )

    return _move(
        order,
        Action.REQUEST_EXTENSION,
        actor=actor,
        note=reason.strip(),
        already=already,
        guard=guard,
        apply=apply,
        after=after,
    )


def _decided(state: str) -> Callable[[WorkOrder], bool]:
    def already(o: WorkOrder) -> bool:
        return o.extension_state == state

    return already


def _needs_pending(o: WorkOrder) -> None:
    if o.extension_state != ExtensionState.REQUESTED:
        raise Refused(_("该工单没有待审批的延期申请。"))


def approve_extension(order: WorkOrder, *, actor: User, days: int | None = None, note: str = "") -> WorkOrder:
    """同意延期: the deadline moves by the requested (or granted) working days from the old deadline."""

    def apply(o: WorkOrder):
        granted = days or o.extension_days or 1
        due = deadlines.add_working_days(o.due_at, granted, calendar_map(timezone.localdate(o.due_at)))
        old = o.due_at
        o.due_at, o.deadline_provisional = due.at, due.provisional
        if o.due_basis_days is not None:
            o.due_basis_days += granted  # the N-th working day after the N-th is the (N + granted)-th
        o.extension_state = ExtensionState.APPROVED
        _restart_urging(o, start=o.dispatched_at)
        return {"days": granted, "old_due_at": old.isoformat(), "due_at": o.due_at.isoformat()}

    def after(o: WorkOrder):
        notify(
            users=handlers_of_order(o),
            text=_("工单 %(number)s 延期已同意，新时限 %(due)s。")
            % {"number": o.number, "due": timezone.localtime(o.due_at).strftime("%Y-%m-%d %H:%M")},
            url=order_url(o),
            dedupe_key=f"wo-ext-ok:{o.pk}:{o.deadline_version}",
        )
        # 延期短信: once per approved extension (the deadline version names it).
        sms_services.notify_step(
            appeal=o.appeal,
            step=NoticeStep.EXTENSION,
            params={"code": o.appeal.tracking_code, "date": f"{timezone.localtime(o.due_at):%-m月%-d日}"},
            dedupe_key=f"appeal-extended:{o.pk}:{o.deadline_version}",
        )

    return _move(
        order,
        Action.APPROVE_EXTENSION,
        actor=actor,
        note=note,
        already=_decided(ExtensionState.APPROVED),
        guard=_needs_pending,
        apply=apply,
        after=after,
    )


def refuse_extension(order: WorkOrder, *, actor: User, reason: str) -> WorkOrder:
    """不同意延期: the deadline stays."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写不同意的理由。")})

    def apply(o: WorkOrder):
        o.extension_state = ExtensionState.REFUSED

    def after(o: WorkOrder):
        notify(
            users=handlers_of_order(o),
            text=_("工单 %(number)s 延期申请未同意：%(reason)s") % {"number": o.number, "reason": reason},
            url=order_url(o),
            dedupe_key=f"wo-ext-no:{o.pk}:{o.deadline_version}",
        )

    return _move(
        order,
        Action.REFUSE_EXTENSION,
        actor=actor,
        note=reason.strip(),
        already=_decided(ExtensionState.REFUSED),
        guard=_needs_pending,
        apply=apply,
        after=after,
    )


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def template_reply(appeal: Appeal, *, unit_name: str) -> str | None:
    """The category's reply template (else the default one) with its placeholders filled, or None
    when there is no active template. ``unit_name`` fills ``{unit}``: the handling unit of a work
    order, or the center's own unit when it answers an appeal directly."""
    rows = {
        t.category_id: t.text
        for t in ReplyTemplate.objects.filter(is_active=True).filter(
            Q(category__isnull=True) | Q(category_id=appeal.category_id)
        )
    }
    text = rows.get(appeal.category_id) if appeal.category_id else None
    text = text or rows.get(None)
    if not text:
        return None
    values = _Blank(
        unit=unit_name,
        date=formats.date_format(timezone.localdate(), "DATE_FORMAT"),
        code=appeal.tracking_code,
        category=appeal.category.name if appeal.category_id else "",
    )
    # format_map with unknown placeholders left as typed: an admin's typo shows, it never raises.
    try:
        return text.format_map(values)
    except (ValueError, IndexError):
        return text


def reply_prefill(order: WorkOrder) -> tuple[str, str]:
    """The text the close box starts with, and where it comes from: ``"template"`` or ``"feedback"``.

    The category's reply template (else the default one) with its placeholders filled; without a
    template, the unit's internal feedback — shown to the center to edit and confirm, never
    published as it is (``close`` takes only the reply the center submitted).
    """
    text = template_reply(order.appeal, unit_name=order.unit.name)
    if text is not None:
        return text, "template"
    return order.feedback_text, "feedback"


def close(order: WorkOrder, *, actor: User, reply: str) -> WorkOrder:
    """办结: the order closes, the appeal closes, the citizen gets an SMS and 12345/12389 the result.

    ``reply`` is the public reply the center confirmed; it is required and is the only text that
    leaves the platform (``/track/``, the closure SMS, 12345/12389). The unit's feedback is
    internal and is never used in its place.
    """
    reply = (reply or "").strip()

    def apply(o: WorkOrder):
        # Checked after the state (a wrong state is a refusal, 409), before anything is written.
        if not reply:
            raise ValidationError({"reply": _("请填写答复群众的内容（将公开给群众）。")})
        now = timezone.now()
        o.closed_at = now
        o.closed_on_time = (o.feedback_at or now) <= o.due_at
        o.reply_text = reply
        o.next_urge_at = None
        o.close_sms_queued_at = None
        o.result_queued_at = None
        o.notice_attempts = 0

    def after(o: WorkOrder):
        others_open = WorkOrder.objects.filter(appeal=o.appeal, status__in=OPEN_STATUSES).exclude(pk=o.pk).exists()
        if not others_open:
            _tell_intake(intake_services.close_appeal, o.appeal, actor=actor, reply=o.reply_text)
        queue_close_notices(o, actor=actor)
        if o.handler:
            notify(
                users=[o.handler],
                text=_("工单 %(number)s 已办结。") % {"number": o.number},
                url=order_url(o),
                dedupe_key=f"wo-closed:{o.pk}:{o.reopen_count}",
            )

    return _move(order, Action.CLOSE, actor=actor, note=reply, apply=apply, after=after)


def reopen(order: WorkOrder, *, actor: User, reason: str, working_days: int | None = None) -> WorkOrder:
    """重新办理: a citizen's dissatisfaction was upheld; the unit works on it again with a new deadline."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写重新办理的理由。")})

    def apply(o: WorkOrder):
        now = timezone.now()
        o.reopen_count += 1
        o.closed_at = None
        o.closed_on_time = None
        limits = compute_deadlines(now, severity=o.severity, working_days=working_days or o.working_days)
        o.due_at, o.deadline_provisional = limits.due_at, limits.provisional
        o.due_basis_at, o.due_basis_days = limits.basis_at, limits.basis_days
        o.extension_state = ExtensionState.NONE
        _restart_urging(o, start=now, now=now)
        return {"due_at": o.due_at.isoformat()}

    def after(o: WorkOrder):
        _tell_intake(intake_services.reopen_appeal, o.appeal, actor=actor, reason=reason)
        notify(
            users=([o.handler] if o.handler else []) + roles.handlers_of(o.unit) + leaders_of(o.unit),
            text=_("工单 %(number)s 群众不满意，需重新办理：%(reason)s") % {"number": o.number, "reason": reason},
            url=order_url(o),
            dedupe_key=f"wo-reopen:{o.pk}:{o.reopen_count}",
        )

    return _move(order, Action.REOPEN, actor=actor, note=reason.strip(), apply=apply, after=after)


# --- Close notices: citizen SMS and the result back to 12345/12389 -------------------------------


RESULT_CHANNELS = frozenset({Channel.FEED_12345, Channel.FEED_12389})


def _queue_sms(**kwargs) -> bool:
    """Queue one SMS through the SMS layer; False when it refuses.

    In a savepoint: a refused SMS (an invalid staff number, a template not yet configured) must not
    undo the reminder or the close it belongs to; for close notices the sweeper tries again.
    """
    from sms.services import queue_sms

    try:
        with transaction.atomic():
            queue_sms(**kwargs)
    except (ValidationError, LookupError):
        log.warning("SMS %s not queued", kwargs.get("template_code"), exc_info=True)
        return False
    return True


def queue_close_notices(order: WorkOrder, *, actor: User | None = None) -> dict[str, bool]:
    """Queue what a close sends: SMS to the citizen and, for 12345/12389, the result to the platform.

    Both are outbox rows of other apps (the SMS layer, feeds' delivery) written in the caller's
    transaction; a stamp on the order says each was queued. A closed order with a stamp still
    missing (the SMS layer refused) is re-driven by the sweeper.
    """
    appeal = order.appeal
    done = {"sms": order.close_sms_queued_at is not None, "result": order.result_queued_at is not None}
    now = timezone.now()
    if not done["sms"]:
        # No phone, the channel's closure SMS switched off (or its platform informs), an opted-out
        # phone: nothing to send, the stamp says so.
        if (
            not appeal.citizen_phone
            or not sms_services.step_notice_on(appeal.channel, NoticeStep.CLOSURE)
            or sms_services.is_opted_out(appeal.citizen_phone_hash)
        ):
            done["sms"] = True
            WorkOrder.objects.filter(pk=order.pk).update(close_sms_queued_at=now)
        else:
            params = {"code": appeal.tracking_code}
            from sms.catalogue import template_text

            # A template edited to carry the answer gets the confirmed public reply, never the feedback.
            try:
                carries_reply = "{reply}" in template_text("appeal_closed")
            except LookupError:
                carries_reply = False
            if carries_reply:
                params["reply"] = order.reply_text
            if _queue_sms(
                phone=appeal.citizen_phone,
                template_code="appeal_closed",
                params=params,
                purpose="appeal_closed",
                dedupe_key=f"appeal-closed:{order.pk}:{order.reopen_count}",
            ):
                WorkOrder.objects.filter(pk=order.pk).update(close_sms_queued_at=now)
                _event(order, action=Action.NOTIFY_CITIZEN, actor=None, note=_("已发送办结短信"))
                done["sms"] = True
    if not done["result"]:
        if appeal.channel not in RESULT_CHANNELS:
            done["result"] = True
            WorkOrder.objects.filter(pk=order.pk).update(result_queued_at=now)
        else:
            # One delivery per close: a reopened and re-closed order sends its new result.
            queue_result_delivery(
                appeal,
                # The confirmed public reply only; internal feedback never goes out.
                result_text=order.reply_text,
                actor=actor,
                sequence=order.reopen_count + 1,
            )
            WorkOrder.objects.filter(pk=order.pk).update(result_queued_at=now)
            _event(
                order,
                action=Action.RESULT_SENT,
                actor=None,
                note=_("办理结果已提交回传%(channel)s平台") % {"channel": appeal.get_channel_display()},
            )
            done["result"] = True
    return done


def sweep_close_notices(*, limit: int = 200) -> int:
    """Re-drive close notices that are still missing on closed orders. Returns how many were queued."""
    pending = WorkOrder.objects.filter(status=S.CLOSED).filter(
        Q(close_sms_queued_at__isnull=True) | Q(result_queued_at__isnull=True)
    )
    count = 0
    for pk in pending.values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            order = (
                WorkOrder.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("appeal")
                .filter(pk=pk, status=S.CLOSED)
                .first()
            )
            if order is None:
                continue
            before = (order.close_sms_queued_at, order.result_queued_at)
            queue_close_notices(order)
            order.refresh_from_db(fields=["close_sms_queued_at", "result_queued_at"])
            after = (order.close_sms_queued_at, order.result_queued_at)
            if after != before:
                count += 1
            if None in after:
                _count_failed_notice(order)
    return count


def _count_failed_notice(order: WorkOrder) -> None:
    """One more attempt that left a close notice unqueued; past the cap, administrators are told once."""
    WorkOrder.objects.filter(pk=order.pk).update(notice_attempts=F("notice_attempts") + 1)
    order.refresh_from_db(fields=["notice_attempts"])
    if order.notice_attempts >= settings.WORKORDERS_NOTICE_ALERT_AFTER:
        admins = roles.admins()
        notify(
            users=admins,
            text=_("工单 %(number)s 已办结，但办结短信或结果回传多次未能排队（请检查短信模板和回传配置）。")
            % {"number": order.number},
            url=order_url(order),
            dedupe_key=f"wo-notice-stuck:{order.pk}:{order.reopen_count}",
        )


# --- Urging -------------------------------------------------------------------------------


URGE_TEXT = {
    UrgeStage.HALF: gettext_lazy("工单 %(number)s 办理时限已过半，请于 %(due)s 前反馈。"),
    UrgeStage.EIGHTY: gettext_lazy("工单 %(number)s 即将到期，请于 %(due)s 前反馈。"),
    UrgeStage.DUE: gettext_lazy("工单 %(number)s 已超期（时限 %(due)s），请尽快办理。"),
}


def urge_due_orders(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Remind units of orders whose next reminder is due. Returns how many reminders went out.

    One run catches every passed deadline: after an outage the whole backlog is reminded at once,
    not ``batch_size`` orders a minute. Steps, per batch of due orders (keyset on
    ``(next_urge_at, id)``, so an order that cannot be claimed is passed over rather than read again):
    compute the latest stage reached (50 %, 80 %, deadline); claim it with a conditional UPDATE that
    only succeeds while the order still has the old stage and deadline version (so two runs, or two
    workers, never remind twice); then, in the same transaction, write the timeline row and the
    notifications (each with a dedupe key). The run ends when a batch comes back short.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.WORKORDERS_URGE_BATCH
    sent = 0
    after: tuple[datetime, int] | None = None
    while True:
        due = WorkOrder.objects.filter(status__in=WITH_UNIT, next_urge_at__lte=now)
        if after is not None:
            due = due.filter(Q(next_urge_at__gt=after[0]) | Q(next_urge_at=after[0], pk__gt=after[1]))
        batch = list(
            due.order_by("next_urge_at", "pk").values_list(
                "pk", "urge_stage", "deadline_version", "dispatched_at", "due_at", "next_urge_at"
            )[:batch_size]
        )
        for pk, stage, version, dispatched_at, due_at, _next in batch:
            sent += _claim_reminder(
                pk, stage=stage, version=version, dispatched_at=dispatched_at, due_at=due_at, now=now
            )
        if len(batch) < batch_size:
            return sent
        after = (batch[-1][5], batch[-1][0])


def _claim_reminder(
    pk: int, *, stage: int, version: int, dispatched_at: datetime, due_at: datetime, now: datetime
) -> int:
    """Claim and send the latest reminder stage one order has reached; 1 if this run sent it."""
    times = deadlines.urge_times(dispatched_at, due_at)
    reached = sum(1 for t in times if t <= now)
    if reached <= stage:
        return 0
    following = times[reached] if reached < len(times) else None
    changes = {"urge_stage": reached, "next_urge_at": following}
    if reached == UrgeStage.DUE:
        changes.update(is_overdue=True, overdue_at=now)
    with transaction.atomic():
        claimed = WorkOrder.objects.filter(
            pk=pk, urge_stage=stage, deadline_version=version, status__in=WITH_UNIT
        ).update(**changes)
        if not claimed:
            return 0
        order = WorkOrder.objects.select_related("unit", "handler", "appeal").get(pk=pk)
        _remind(order, stage=reached)
    return 1


def urge_unsigned_orders(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Tell a unit (and its leaders) once when an order passed its sign deadline unsigned.

    Claimed with a conditional UPDATE on ``sign_late_notified_at`` so that two runs tell once. Like
    ``urge_due_orders``, one run loops over batches (keyset on id) until every late order is told.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.WORKORDERS_URGE_BATCH
    sent = 0
    after = 0
    while True:
        batch = list(
            WorkOrder.objects.filter(
                status=S.DISPATCHED, sign_deadline__lte=now, sign_late_notified_at__isnull=True, pk__gt=after
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        for pk in batch:
            sent += _claim_sign_late(pk, now=now)
        if len(batch) < batch_size:
            return sent
        after = batch[-1]


def _claim_sign_late(pk: int, *, now: datetime) -> int:
    """Claim and send the "not signed in time" warning of one order; 1 if this run sent it."""
    with transaction.atomic():
        claimed = WorkOrder.objects.filter(pk=pk, status=S.DISPATCHED, sign_late_notified_at__isnull=True).update(
            sign_late_notified_at=now
        )
        if not claimed:
            return 0
        order = WorkOrder.objects.select_related("unit").get(pk=pk)
        text = _("工单 %(number)s 已超过签收时限（%(when)s），请立即签收。") % {
            "number": order.number,
            "when": timezone.localtime(order.sign_deadline).strftime("%H:%M"),
        }
        _event(order, action=Action.URGE, actor=None, note=text, data={"stage": "sign"})
        notify(
            users=roles.handlers_of(order.unit) + leaders_of(order.unit),
            text=text,
            url=order_url(order),
            level="warning",  # a deadline passed: a reminder, not an alarm
            dedupe_key=f"wo-sign-late:{order.pk}:{order.unit_id}",
        )
    return 1


def _remind(order: WorkOrder, *, stage: int) -> None:
    due_text = timezone.localtime(order.due_at).strftime("%m月%d日%H:%M")
    text = str(URGE_TEXT[stage]) % {"number": order.number, "due": due_text}
    key = f"wo-urge:{order.pk}:{order.deadline_version}:{stage}"
    handlers = handlers_of_order(order)
    # A deadline reminder is 提醒; only an overdue order under listed supervision is 紧急.
    level = "alert" if stage == UrgeStage.DUE and order.is_listed else "warning"
    _event(
        order,
        action=Action.OVERDUE if stage == UrgeStage.DUE else Action.URGE,
        actor=None,
        note=text,
        data={"stage": stage},
    )
    notify(users=handlers, text=text, url=order_url(order), level=level, dedupe_key=key)
    if stage == UrgeStage.DUE:
        notify(
            users=leaders_of(order.unit) + supervisors(),
            text=_("%(unit)s的工单 %(number)s 已超期。") % {"unit": order.unit.name, "number": order.number},
            url=order_url(order),
            level=level,
            dedupe_key=key,
        )
    if settings.WORKORDERS_URGE_SMS:
        for user in handlers:
            if user.mobile:
                _queue_sms(
                    phone=user.mobile,
                    template_code="urge_reminder",
                    params={"order": order.number, "when": due_text},
                    purpose="urge_reminder",
                    dedupe_key=f"{key}:{user.pk}",
                )


# --- Listed supervision ---------------------------------------------------------------------


def list_order(order: WorkOrder, *, actor: User | None, reason: str, rule: SupervisionRule | None = None) -> WorkOrder:
    """挂牌督办: put an order under a supervisor's watch (by hand, or by a rule when ``actor`` is None)."""
    if actor is not None and not permissions.may_list(actor):
        raise PermissionDenied(_("只有督察可以挂牌督办。"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写督办原因。")})
    reason = reason.strip()

    def guard(locked: WorkOrder) -> None:
        if locked.status not in OPEN_STATUSES:
            raise Refused(_("工单已结束，不能挂牌督办。"))

    def apply(locked: WorkOrder) -> None:
        locked.listed_reason, locked.listed_at = reason[:200], timezone.now()
        if actor is not None:
            locked.supervision_waived = False

    def tell(locked: WorkOrder) -> None:
        notify(
            users=supervisors() + leaders_of(locked.unit),
            text=_("工单 %(number)s 已挂牌督办：%(reason)s") % {"number": locked.number, "reason": reason},
            url=order_url(locked),
            level="alert" if locked.is_overdue else "info",  # 紧急 once listed and overdue
            dedupe_key=f"wo-listed:{locked.pk}:{locked.listed_at:%Y%m%d%H%M%S}",
        )

    # A rule never lists again an order a supervisor took off the list.
    return transition(
        order,
        action=Action.LIST,
        actor=actor,
        to=True,
        status_field="is_listed",
        already=lambda locked: locked.is_listed or (actor is None and locked.supervision_waived),
        guard=guard,
        apply=apply,
        after=tell,
        related=("unit",),
        write_event=lambda locked, _before: _event(
            locked, action=Action.LIST, actor=actor, note=reason, data={"rule": rule.pk if rule else None}
        ),
    )


def unlist_order(order: WorkOrder, *, actor: User, reason: str) -> WorkOrder:
    """撤销挂牌: a supervisor takes the order off the list; rules will not list it again."""
    if not permissions.may_list(actor):
        raise PermissionDenied(_("只有督察可以撤销挂牌。"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写撤销原因。")})
    reason = reason.strip()

    def apply(locked: WorkOrder) -> None:
        locked.supervision_waived = True

    return transition(
        order,
        action=Action.UNLIST,
        actor=actor,
        to=False,
        status_field="is_listed",
        apply=apply,
        write_event=lambda locked, _before: _event(locked, action=Action.UNLIST, actor=actor, note=reason),
    )


def _rule_matches(rule: SupervisionRule, order: WorkOrder, *, today: date) -> str | None:
    """The reason this rule lists this order, or None."""
    p = rule.params or {}
    appeal = order.appeal
    if rule.kind == SupervisionKind.REPEAT:
        if appeal.is_repeat:
            return _("重复诉求")
        if appeal.citizen_phone_hash:
            since = appeal.received_at - timedelta(days=int(p.get("days", 30)))
            same = Appeal.objects.filter(citizen_phone_hash=appeal.citizen_phone_hash, received_at__gte=since)
            if appeal.category_id:
                same = same.filter(category_id=appeal.category_id)
            n = same.count()
            if n >= int(p.get("min_appeals", 2)):
                return _("同一诉求人 %(days)s 天内重复诉求 %(n)d 次") % {"days": p.get("days", 30), "n": n}
    elif rule.kind == SupervisionKind.LONG_UNRESOLVED:
        limit = int(p.get("working_days", 10))
        dispatched_on = timezone.localdate(order.dispatched_at)
        if (today - dispatched_on).days < limit:
            return None  # fewer calendar days than the limit: fewer working days too
        passed = deadlines.working_days_between(
            timezone.localdate(order.dispatched_at), today, calendar_map(timezone.localdate(order.dispatched_at))
        )
        if passed >= limit:
            return _("派单后 %(n)d 个工作日仍未办结") % {"n": passed}
    elif rule.kind == SupervisionKind.GROUP:
        if appeal.address and appeal.category_id:
            since = appeal.received_at - timedelta(days=int(p.get("days", 7)))
            citizens = (
                Appeal.objects.filter(category_id=appeal.category_id, address=appeal.address, received_at__gte=since)
                .exclude(citizen_phone_hash="")
                .aggregate(n=Count("citizen_phone_hash", distinct=True))["n"]
            )
            if citizens >= int(p.get("min_citizens", 5)):
                return _("群体诉求：%(n)d 名群众反映同一问题") % {"n": citizens}
    return None


def apply_supervision_rules(*, orders=None, today: date | None = None) -> int:
    """List open orders that an active rule matches (not those a supervisor unlisted). Returns how many."""
    rules = list(SupervisionRule.objects.filter(is_active=True))
    if not rules:
        return 0
    today = today or timezone.localdate()
    qs = orders if orders is not None else WorkOrder.objects.all()
    qs = qs.filter(status__in=OPEN_STATUSES, is_listed=False, supervision_waived=False).select_related("appeal")
    listed = 0
    for order in qs:
        for rule in rules:
            reason = _rule_matches(rule, order, today=today)
            if reason:
                list_order(order, actor=None, reason=f"{rule.name}：{reason}", rule=rule)
                listed += 1
                break
    return listed


# --- Consultation ---------------------------------------------------------------------------


def record_consultation(
    order: WorkOrder,
    *,
    actor: User,
    topic: str,
    held_on: date,
    departments: Sequence[Unit],
    decision: str,
    participants: str = "",
) -> Consultation:
    """警种联合会商: record several departments' joint decision on the order."""
    if not permissions.may_consult(actor):
        raise PermissionDenied(_("您无权记录联合会商。"))
    errors = {}
    if not (topic or "").strip():
        errors["topic"] = _("请填写会商事项。")
    if not (decision or "").strip():
        errors["decision"] = _("请填写会商意见。")
    if len(departments) < 2:
        errors["departments"] = _("联合会商至少需要两个单位参加。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        record = Consultation.objects.create(
            order=order,
            topic=topic.strip(),
            held_on=held_on,
            participants=participants.strip(),
            decision=decision.strip(),
            created_by=actor,
        )
        record.departments.set(departments)
        _event(
            order,
            action=Action.CONSULT,
            actor=actor,
            note=f"{topic.strip()}：{decision.strip()}",
            data={"consultation": record.pk, "departments": [d.name for d in departments]},
        )
    return record


# --- Calendar warnings ----------------------------------------------------------------------


def warn_missing_calendar(*, today: date | None = None) -> int | None:
    """From 1 November, tell administrators when next year's holidays are not entered (once per year)."""
    today = today or timezone.localdate()
    year = deadlines.next_year_missing(today, known_years(), warn_from=settings.WORKORDERS_CALENDAR_WARN_FROM)
    if year is None:
        return None
    admins = roles.admins()
    notify(
        users=admins,
        text=_("%(year)d 年节假日安排尚未录入，工单时限暂按周一至周五计算（待确认）。请在“节假日”页面录入。")
        % {"year": year},
        url=reverse("workorders:calendar"),
        dedupe_key=f"wo-calendar-missing:{year}",
    )
    return year


def recompute_provisional_deadlines() -> int:
    """Recount provisional deadlines of open orders with the calendar as it is now (after an
    administrator entered next year's holidays). Returns how many orders changed."""
    changed = 0
    candidates = WorkOrder.objects.filter(
        status__in=OPEN_STATUSES, deadline_provisional=True, due_basis_days__isnull=False
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            order = WorkOrder.objects.select_for_update(of=("self",)).get(pk=pk)
            if not order.deadline_provisional or order.due_basis_at is None:
                continue
            due = deadlines.add_working_days(
                order.due_basis_at, order.due_basis_days, calendar_map(timezone.localdate(order.due_basis_at))
            )
            if due.at == order.due_at and due.provisional:
                continue
            old = order.due_at
            order.due_at, order.deadline_provisional = due.at, due.provisional
            if due.at != old:
                _restart_urging(order, start=order.due_basis_at)
            order.save()
            _event(
                order,
                action=Action.RECOMPUTE,
                actor=None,
                note=_("节假日安排已录入，时限重新计算：%(old)s → %(new)s")
                % {
                    "old": timezone.localtime(old).strftime("%Y-%m-%d %H:%M"),
                    "new": timezone.localtime(due.at).strftime("%Y-%m-%d %H:%M"),
                },
                data={"old_due_at": old.isoformat(), "due_at": due.at.isoformat(), "provisional": due.provisional},
            )
            changed += 1
    return changed


def set_calendar_day(*, actor: User, day: date, is_workday: bool, name: str = ""):
    """An administrator enters or corrects one day (a holiday or a make-up working day)."""
    from .choices import CalendarSource
    from .models import CalendarDay

    if not permissions.may_edit_calendar(actor):
        raise PermissionDenied(_("只有系统管理员可以修改节假日。"))
    obj, _created = CalendarDay.objects.update_or_create(
        date=day, defaults={"is_workday": is_workday, "name": name.strip()[:40], "source": CalendarSource.ADMIN}
    )
    recompute_provisional_deadlines()
    return obj
