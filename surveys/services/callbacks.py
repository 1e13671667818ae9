"""The callback desk (人工回访): calls, the reveal of a number, the rectification order, the verdict."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.choices import Channel, Kind
from intake.services import create_appeal
from units.errors import Refused
from units.models import User
from units.transitions import move_by_table
from workorders.services import dispatch_appeal

from .. import permissions
from ..choices import (
    CallbackStatus,
    CallbackVerdict,
    CallOutcome,
)
from ..models import (
    Callback,
    CallbackAttempt,
    CallbackEvent,
)

logger = logging.getLogger(__name__)


# --- the callback desk -----------------------------------------------------------------------

CALLBACK_MOVES: dict[str, set[str]] = {
    CallbackStatus.PENDING: {CallbackStatus.PENDING, CallbackStatus.REACHED, CallbackStatus.CLOSED},
    CallbackStatus.REACHED: {CallbackStatus.REACHED, CallbackStatus.CLOSED},
    CallbackStatus.CLOSED: set(),
}


def _callback_transition(
    callback: Callback, *, to: str, actor: User | None, action: str, note: str = "", **changes: Any
) -> Callback:
    """One move of the callback allowed by ``CALLBACK_MOVES`` (``units.transitions.move_by_table``):
    another call that leaves it pending is a move with its own timeline row."""
    return move_by_table(
        callback,
        CALLBACK_MOVES,
        to=to,
        actor=actor,
        action=action,
        refusal=_("回访当前状态为“%(s)s”，不能执行此操作。"),
        note=note[:1000],
        **changes,
    )


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
    if not permissions.may_work_callback(actor):
        raise PermissionDenied
    if outcome not in CallOutcome.values:
        raise ValidationError(_("请选择拨打结果。"))
    now = timezone.now()
    with transaction.atomic():
        current = Callback.objects.select_for_update().get(pk=callback.pk)
        if current.status == CallbackStatus.CLOSED:
            raise Refused(_("回访已结案，不能再登记通话。"))
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

    from units.roles import center_staff
    from units.services import notify

    now = now or timezone.now()
    overdue = list(Callback.objects.open().filter(due_at__lt=now).select_related("unit")[:200])
    if not overdue:
        return 0
    staff = center_staff()
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
    if not permissions.may_reveal_callback_phone(actor):
        raise PermissionDenied
    from intake.choices import RevealedObject
    from intake.services import reveal_logged

    rating = callback.rating
    phone = reveal_logged(
        rating.sms.phone if rating.sms_id else rating.phone,
        actor=actor,
        reason=reason,
        ip=ip,
        object_type=RevealedObject.CALLBACK,
        object_id=callback.pk,
        object_label=_("回访#%(id)s") % {"id": callback.pk},
        timeline=lambda why: CallbackEvent.objects.create(
            callback=callback,
            actor=actor,
            action="reveal_phone",
            note=_("查看了群众完整号码，事由：%(reason)s") % {"reason": why},
        ),
    )
    if not phone:
        return ""
    logger.info("callback %s: phone revealed to user %s", callback.pk, actor.pk)
    return phone


def open_rectification(callback: Callback, *, actor: User, note: str = "") -> Callback:
    """A reasonable complaint becomes a rectification work order to the rated unit, due in
    SURVEYS_RECTIFICATION_WORKING_DAYS working days. Opening it twice opens one order."""
    if not permissions.may_work_callback(actor):
        raise PermissionDenied
    with transaction.atomic():
        current = Callback.objects.select_for_update(of=("self",)).select_related("rating", "unit").get(pk=callback.pk)
        if current.rectification_appeal_id:
            return current
        if current.status != CallbackStatus.REACHED:
            raise Refused(_("需先联系到群众并记录不满意原因，才能派发整改工单。"))
        if current.unit is None:
            raise Refused(_("该评价没有对应的办理单位，无法派发整改工单。"))
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
            raise Refused(str(exc) or _("无权派发整改工单。")) from exc
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
    if not permissions.may_work_callback(actor):
        raise PermissionDenied
    if verdict not in CallbackVerdict.values:
        raise ValidationError(_("请选择回访结论。"))
    with transaction.atomic():
        current = Callback.objects.select_for_update().get(pk=callback.pk)
        if current.status == CallbackStatus.CLOSED:
            if current.verdict == verdict:
                return current
            raise Refused(_("回访已结案，不能修改结论。"))
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
