"""Writes about appeals: receiving them from any channel, triage, and every change of status.

Every status change goes through ``_transition`` (lock the row, re-check, "already there" is a
no-op, one event row in the same transaction). Views, the API, tasks and other apps call these
functions; nothing else changes an appeal's status.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from units.errors import Refused
from units.memo import ProcessCache
from units.models import Unit, User
from units.roles import center_staff
from units.transitions import record, refresh, sources_of, transition

from . import similarity
from .choices import AppealStatus, Channel, Kind, RevealedObject, Severity
from .models import (
    Appeal,
    AppealEvent,
    Attachment,
    Category,
    IdempotencyRecord,
    PhoneReveal,
    RiskWord,
    new_tracking_code,
)
from .permissions import may_reveal_phone
from .phones import national, normalize_phone, phone_hash


class Action:
    """Action codes of the appeal timeline (``AppealEvent.action``)."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    MARKED_FOR_DISPATCH = "marked_for_dispatch"
    DISPATCHED = "dispatched"
    CLOSED = "closed"
    REOPENED = "reopened"
    MERGED = "merged"
    MERGED_IN = "merged_in"
    REPEAT = "repeat_detected"
    RISK = "risk_alert"
    PHONE_REVEALED = "phone_revealed"
    ATTACHMENT = "attachment_added"


ACTION_LABELS = {
    Action.RECEIVED: _lazy("受理"),
    Action.TRIAGED: _lazy("研判"),
    Action.MARKED_FOR_DISPATCH: _lazy("标记待派单"),
    Action.DISPATCHED: _lazy("派单"),
    Action.CLOSED: _lazy("答复办结"),
    Action.REOPENED: _lazy("重新办理"),
    Action.MERGED: _lazy("合并至原诉求"),
    Action.MERGED_IN: _lazy("并入重复诉求"),
    Action.REPEAT: _lazy("识别为重复诉求"),
    Action.RISK: _lazy("风险词预警"),
    Action.PHONE_REVEALED: _lazy("查看完整号码"),
    Action.ATTACHMENT: _lazy("上传附件"),
}

# The allowed moves of an appeal. DISPATCHED → DISPATCHED is a re-dispatch to another unit (after a
# misrouted order came back); DISPATCHED → PENDING_DISPATCH puts it back on the desk.
ALLOWED_MOVES: dict[str, set[str]] = {
    AppealStatus.NEW: {
        AppealStatus.PENDING_DISPATCH,
        AppealStatus.DISPATCHED,
        AppealStatus.CLOSED,
        AppealStatus.MERGED,
    },
    AppealStatus.PENDING_DISPATCH: {
        AppealStatus.NEW,
        AppealStatus.DISPATCHED,
        AppealStatus.CLOSED,
        AppealStatus.MERGED,
    },
    AppealStatus.DISPATCHED: {AppealStatus.DISPATCHED, AppealStatus.PENDING_DISPATCH, AppealStatus.CLOSED},
    AppealStatus.CLOSED: {AppealStatus.DISPATCHED},
    AppealStatus.MERGED: set(),
}


def record_event(
    appeal: Appeal,
    *,
    action: str,
    actor: User | None = None,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> AppealEvent:
    """Add one step that moves nothing to the appeal's timeline (a reveal, an attachment, a merge
    seen from the original); moves write theirs through ``_transition``."""
    return record(
        appeal, action=action, actor=actor, note=note, from_status=from_status, to_status=to_status, data=data
    )


def _refuse(appeal: Appeal, to: str) -> Refused:
    return Refused(
        _("诉求当前状态为“%(status)s”，不能变更为“%(to)s”。")
        % {"status": appeal.get_status_display(), "to": AppealStatus(to).label}
    )


def _required(value: str | None, field: str, message: str) -> str:
    """``value`` without surrounding blanks; a ValidationError on ``field`` when nothing is left."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _transition(
    appeal: Appeal,
    *,
    to: str,
    actor: User | None,
    action: str,
    note: str = "",
    changes: dict[str, Any] | None = None,
    data: dict | None = None,
    sources: set[str] | None = None,
    status_only: bool = False,
) -> Appeal:
    """Move ``appeal`` to status ``to``, applying ``changes`` to its fields, through the one
    transition helper (``units.transitions``: lock, no-op when already there, refusal, save,
    timeline row). Allowed from the statuses whose ``ALLOWED_MOVES`` lead to ``to`` unless
    ``sources`` says otherwise; "already there" is the status with the same changes, or the status
    alone with ``status_only`` (a move whose changes differ each time, such as a new time).
    """
    changes = changes or {}

    def apply(locked: Appeal) -> None:
        for field, value in changes.items():
            setattr(locked, field, value)

    def is_there(locked: Appeal) -> bool:
        return locked.status == to and (status_only or all(getattr(locked, k) == v for k, v in changes.items()))

    return transition(
        appeal,
        action=action,
        actor=actor,
        to=to,
        sources=sources if sources is not None else sources_of(ALLOWED_MOVES, to),
        already=is_there,
        refuse=lambda locked: _refuse(locked, to),
        apply=apply,
        note=note,
        data=data,
    )


# --- Receiving -------------------------------------------------------------------------------


def _active_risk_words() -> tuple[str, ...]:
    return tuple(RiskWord.objects.filter(is_active=True).values_list("word", flat=True))


# Read once per process, not once per appeal received: a RiskWord saved or deleted is seen at once
# by the process that saved it (the model's signals call risk_words_changed) and within seconds
# (units.memo.MAX_AGE_SECONDS) by every other one.
risk_words = ProcessCache("intake-risk-words", _active_risk_words)


def active_risk_words() -> list[str]:
    """The active risk words."""
    return list(risk_words.get())


def risk_words_changed(using: str = "default") -> None:
    """A risk word was saved or deleted in this process: read them again at the next appeal."""
    risk_words.changed(using=using)


def find_risk_words(text: str) -> list[str]:
    """The active risk words that occur in ``text``."""
    return [w for w in active_risk_words() if w and w in (text or "")]


@dataclass(frozen=True)
class SeverityProposal:
    severity: str
    risk_words: list[str]

    @property
    def is_alert(self) -> bool:
        return bool(self.risk_words)


def propose_severity(*, content: str, category: Category | None) -> SeverityProposal:
    """Red when a risk word occurs (with the words found), else the category's default (or blue)."""
    words = find_risk_words(content)
    if words:
        return SeverityProposal(Severity.RED, words)
    if category is not None:
        return SeverityProposal(category.default_severity, [])
    return SeverityProposal(Severity.BLUE, [])


def _active_categories() -> tuple[Category, ...]:
    return tuple(Category.objects.filter(is_active=True).select_related("parent"))


# The category tree (a few dozen rows), kept per process for the platforms' free-text categories.
active_categories = ProcessCache("intake-categories", _active_categories).watch(Category)


def map_category_hint(hint: str) -> Category | None:
    """The category another platform's free-text category most likely means, or None.

    Exact code or name first; then the most specific category whose name occurs in the hint.
    """
    text = (hint or "").strip()
    if not text:
        return None
    active = active_categories.get()
    lowered = text.lower()
    exact = [c for c in active if c.code.lower() == lowered or c.name == text]
    if exact:
        return copy.copy(exact[0])
    candidates = [c for c in active if c.name and c.name in text]
    if not candidates:
        return None
    # Children before parents (a leaf is more specific), then the longest name.
    candidates.sort(key=lambda c: (c.parent_id is None, -len(c.name)))
    return copy.copy(candidates[0])


@dataclass(frozen=True)
class RepeatMatch:
    earlier: Appeal
    score: float


def find_repeat(
    *, caller_hash: str, content: str, received_at: datetime, exclude_pk: int | None = None
) -> RepeatMatch | None:
    """The earlier appeal of the same caller about a similar matter within the repeat window.

    Same caller is the keyed phone hash; similar is the character-bigram cosine at or above
    INTAKE_SIMILARITY_THRESHOLD; the window is INTAKE_REPEAT_WINDOW_DAYS before ``received_at``.
    """
    if not caller_hash:
        return None
    since = received_at - timedelta(days=settings.INTAKE_REPEAT_WINDOW_DAYS)
    # Bounded work whatever the texts (a caller who pushes the same long text again and again got
    # slower with every push): the K most recent candidates, only the leading characters of each
    # read from the database, the new text's n-grams counted once.
    # Written out rather than built by the ORM: this runs on every push and staff create, and
    # compiling the queryset cost three times what running it does (1.2 ms of CPU against 0.3 ms);
    # rows are read as tuples (a model instance per candidate cost as much again). The caller index
    # (citizen_phone_hash, received_at) answers it; the original of a candidate that is itself a
    # repeat comes in the same statement, so the chain is followed without a second one.
    table = Appeal._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.id, a.tracking_code, substring(a.content, 1, %s), o.id, o.tracking_code
                FROM {table} a LEFT JOIN {table} o ON o.id = a.repeat_of_id
                WHERE a.citizen_phone_hash = %s AND a.received_at >= %s AND a.received_at <= %s
                  AND a.status <> %s AND a.id <> %s
                ORDER BY a.received_at DESC, a.id DESC LIMIT %s""",
            [
                similarity.max_chars(),
                caller_hash,
                since,
                received_at,
                AppealStatus.MERGED,
                exclude_pk or 0,
                settings.INTAKE_REPEAT_MAX_CANDIDATES,
            ],
        )
        candidates = cursor.fetchall()
    wanted = similarity.vector(content)
    best, best_score = None, 0.0
    for row in candidates:
        score = similarity.cosine_vectors(wanted, similarity.vector(row[2]))
        if score >= settings.INTAKE_SIMILARITY_THRESHOLD and (best is None or score > best_score):
            best, best_score = row, score
    if best is None:
        return None
    # Link to the first appeal of the chain, so every repeat points at the original.
    pk, code = (best[3], best[4]) if best[3] is not None else (best[0], best[1])
    # Only its id and code are read; any other field loads on first use, as with .only().
    return RepeatMatch(Appeal.from_db(connection.alias, ["id", "tracking_code"], [pk, code]), best_score)


def create_appeal(
    *,
    channel: str,
    content: str,
    received_at: datetime | None = None,
    external_id: str | None = None,
    citizen_name: str = "",
    citizen_phone: str = "",
    address: str = "",
    kind: str | None = None,
    category: Category | None = None,
    is_enterprise: bool = False,
    title: str = "",
    actor: User | None = None,
    category_hint: str | None = None,
    severity: str | None = None,
) -> tuple[Appeal, bool]:
    """Receive one appeal from any channel. Returns (appeal, created).

    1. validate: a known channel, some content, a valid phone (raw input, normalised to E.164;
       a bad number raises ValidationError with a Chinese message);
    2. a re-sent item (same channel + external id) returns (existing, False) and changes nothing;
    3. map ``category_hint`` to a category; propose the severity (risk words → red + alert, else
       the category's default) unless staff chose one; detect a repeat of the same caller;
    4. insert under the unique (channel, external_id) constraint: when a concurrent request won
       the race, return its row; record the "received" event (and the repeat/risk events).
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": _("未知的渠道。")})
    content = _required(content, "content", _("请填写诉求内容。"))
    if kind and kind not in Kind.values:
        raise ValidationError({"kind": _("未知的诉求类型。")})
    if severity and severity not in Severity.values:
        raise ValidationError({"severity": _("未知的分级。")})
    e164 = ""
    if (citizen_phone or "").strip():
        try:
            e164 = normalize_phone(citizen_phone)
        except ValidationError as exc:
            raise ValidationError({"citizen_phone": exc.messages}) from exc
    external_id = (external_id or "").strip() or None
    if external_id and len(external_id) > 64:
        raise ValidationError({"external_id": _("来源编号不能超过64个字符。")})

    if external_id:
        # Only the id: a re-sent item is rare, and a whole row costs every new one its reading.
        # Written out: the ORM's compiling of this one-line look-up cost more CPU than running it.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Appeal._meta.db_table} WHERE channel = %s AND external_id = %s LIMIT 1",
                [channel, external_id],
            )
            known = cursor.fetchone()
        if known:
            return Appeal.objects.get(pk=known[0]), False

    if category is None and category_hint:
        category = map_category_hint(category_hint)
    received_at = received_at or timezone.now()
    proposal = propose_severity(content=f"{title}\n{content}", category=category)
    caller_hash = phone_hash(e164) if e164 else ""
    repeat = find_repeat(caller_hash=caller_hash, content=content, received_at=received_at)

    appeal = Appeal(
        channel=channel,
        external_id=external_id,
        kind=kind or Kind.COMPLAINT,
        category=category,
        severity=severity or proposal.severity,
        title=(title or "")[:120],
        content=content,
        address=(address or "")[:200],
        citizen_name=(citizen_name or "")[:60],
        citizen_phone=e164,
        citizen_phone_hash=caller_hash,
        is_enterprise=bool(is_enterprise) or channel == Channel.ENTERPRISE,
        received_at=received_at,
        risk_words="、".join(proposal.risk_words)[:200],
        category_hint=(category_hint or "")[:100],
        is_repeat=repeat is not None,
        repeat_of=repeat.earlier if repeat else None,
        similarity=round(repeat.score, 3) if repeat else None,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    for attempt in range(3):
        try:
            with transaction.atomic():
                appeal.save(force_insert=True)
                _record_receipt(appeal, actor=actor, proposal=proposal, repeat=repeat)
            return appeal, True
        except IntegrityError:
            if external_id:
                existing = Appeal.objects.filter(channel=channel, external_id=external_id).first()
                if existing:
                    return existing, False
            if attempt < 2 and _tracking_code_taken(appeal.tracking_code):
                # One chance in ~10^11: draw another code rather than lose what the citizen sent.
                appeal.pk = None
                appeal.tracking_code = new_tracking_code()
                continue
            raise
    raise AssertionError("unreachable")


def _record_receipt(
    appeal: Appeal, *, actor: User | None, proposal: SeverityProposal, repeat: RepeatMatch | None
) -> None:
    """The "received" event, and the repeat and risk events when there are any: one statement.

    Written out rather than through ``record_event`` (one ORM insert per row): every appeal of
    every channel passes here, and building the insert cost several times what running it does.
    The rows are the ones ``record_event`` writes (nobody listens to a new AppealEvent's signals),
    each value prepared by its model field, so the statement suits every database."""
    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    rows = [
        (
            actor_id,
            Action.RECEIVED,
            "",
            appeal.status,
            "",
            {
                "channel": appeal.channel,
                "external_id": appeal.external_id or "",
                "proposed_severity": proposal.severity,
            },
        )
    ]
    if repeat:
        rows.append(
            (
                None,
                Action.REPEAT,
                "",
                "",
                _("与 %(code)s 相似度 %(score).0f%%")
                % {"code": repeat.earlier.tracking_code, "score": repeat.score * 100},
                {"repeat_of": repeat.earlier.pk, "score": round(repeat.score, 3)},
            )
        )
    if proposal.is_alert:
        rows.append((None, Action.RISK, "", "", "、".join(proposal.risk_words), {"words": proposal.risk_words}))
    names = ("actor", "action", "from_status", "to_status", "note", "data", "created_at", "appeal")
    fields = [AppealEvent._meta.get_field(name) for name in names]
    values = []
    for row in rows:
        values.extend(
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, (*row, now, appeal.pk), strict=True)
        )
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AppealEvent._meta.db_table} ({columns}) VALUES {', '.join([one] * len(rows))}", values
        )
    if proposal.is_alert:
        pk = appeal.pk
        transaction.on_commit(lambda: alert_center(pk))


def _tracking_code_taken(code: str) -> bool:
    return Appeal.objects.filter(tracking_code=code).exists()


def alert_center(appeal_pk: int) -> int:
    """Tell center staff at once about an appeal with risk words (one message per person and appeal).

    Returns how many messages were stored (0 when everyone was told already)."""
    from units.services import notify

    appeal = Appeal.objects.filter(pk=appeal_pk).exclude(risk_words="").first()
    if appeal is None:
        return 0
    staff = center_staff()
    return len(
        notify(
            users=staff,
            text=_("风险预警：诉求 %(code)s 含“%(words)s”，请立即研判。")
            % {"code": appeal.tracking_code, "words": appeal.risk_words},
            url=reverse("intake:appeal", args=[appeal.pk]),
            level="alert",
            dedupe_key=f"intake-risk-{appeal.pk}",
        )
    )


def sweep_risk_alerts(*, hours: int = 72) -> int:
    """Re-drive risk alerts whose after-commit call was lost (a process died in between).

    Appeals are picked by when they arrived here (``created_at``), not by ``received_at``: an import
    or a push carries the platform's own, possibly old, date, and its alert is just as lost when the
    process dies right after the commit. The notification's dedupe key makes this safe to run any
    number of times. Returns the number of messages stored."""
    from units.models import Notification

    since = timezone.now() - timedelta(hours=hours)
    pending = list(
        Appeal.objects.exclude(risk_words="")
        .filter(created_at__gte=since, status__in=[AppealStatus.NEW, AppealStatus.PENDING_DISPATCH])
        .values_list("pk", flat=True)
    )
    if not pending:
        return 0
    # Only the keys of the candidates: the table of notifications grows for ever, the window does not.
    told = Notification.objects.filter(dedupe_key__in=[f"intake-risk-{pk}" for pk in pending]).values_list(
        "dedupe_key", flat=True
    )
    told_ids = {int(key.rsplit("-", 1)[1]) for key in told}
    return sum(alert_center(pk) for pk in pending if pk not in told_ids)


def create_appeal_idempotent(*, key: str, actor: User, **fields: Any) -> tuple[Appeal, bool]:
    """``create_appeal`` under an API ``Idempotency-Key``: a retried request returns the first appeal."""
    done = IdempotencyRecord.objects.filter(user=actor, key=key).select_related("appeal").first()
    if done:
        return done.appeal, False
    with transaction.atomic():
        appeal, created = create_appeal(actor=actor, **fields)
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(user=actor, key=key, appeal=appeal)
        except IntegrityError:
            # A concurrent retry with the same key finished first: undo ours, answer with its appeal.
            transaction.set_rollback(True)
            created = False
    if not created:
        done = IdempotencyRecord.objects.filter(user=actor, key=key).select_related("appeal").first()
        if done:
            return done.appeal, False
    return appeal, created


def add_attachment(appeal: Appeal, *, upload, actor: User | None = None) -> Attachment:
    """Attach an image or audio file after checking its type and size (Chinese errors)."""
    from .validators import validate_attachment

    kind = validate_attachment(upload)
    if appeal.attachments.count() >= settings.INTAKE_MAX_ATTACHMENTS:
        raise ValidationError(_("每件诉求最多上传 %(n)d 个附件。") % {"n": settings.INTAKE_MAX_ATTACHMENTS})
    with transaction.atomic():
        attachment = Attachment.objects.create(
            appeal=appeal, file=upload, type=kind, original_name=(upload.name or "")[:200], size=upload.size or 0
        )
        record_event(appeal, action=Action.ATTACHMENT, actor=actor, note=attachment.get_type_display())
    return attachment


# --- Triage ------------------------------------------------------------------------------------


def triage_appeal(
    appeal: Appeal,
    *,
    actor: User,
    kind: str | None = None,
    category: Category | None = None,
    severity: str | None = None,
    proposed_unit: Unit | None = None,
    note: str = "",
) -> Appeal:
    """Set kind, category, severity (and the proposed unit) of an open appeal; records what changed."""
    if kind and kind not in Kind.values:
        raise ValidationError({"kind": _("未知的诉求类型。")})
    if severity and severity not in Severity.values:
        raise ValidationError({"severity": _("未知的分级。")})
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if not locked.is_open:
            raise Refused(_("诉求已办结或已合并，不能再研判。"))
        wanted = {"kind": kind, "category_id": category.pk if category else None, "severity": severity}
        wanted["proposed_unit_id"] = proposed_unit.pk if proposed_unit else None
        changed = {}
        for field, value in wanted.items():
            if value is not None and getattr(locked, field) != value:
                changed[field] = [getattr(locked, field), value]
                setattr(locked, field, value)
        if changed:
            locked.save()
            summary = _describe_changes(changed)
            record_event(
                locked,
                action=Action.TRIAGED,
                actor=actor,
                note="\n".join(part for part in (summary, note) if part),
                data=changed,
            )
    refresh(appeal, locked)
    return appeal


def _describe_changes(changed: dict[str, list]) -> str:
    """ "分级：蓝色 → 红色；分类：（无） → 治安管理 / 噪音扰民" for the timeline."""

    def label(field: str, value) -> str:
        if value in (None, ""):
            return str(_("（无）"))
        if field == "kind":
            return str(Kind(value).label)
        if field == "severity":
            return str(Severity(value).label)
        if field == "category_id":
            return str(Category.objects.filter(pk=value).first() or value)
        if field == "proposed_unit_id":
            return str(Unit.objects.filter(pk=value).first() or value)
        return str(value)

    names = {
        "kind": _("诉求类型"),
        "category_id": _("分类"),
        "severity": _("分级"),
        "proposed_unit_id": _("建议承办单位"),
    }
    return "；".join(
        f"{names[field]}：{label(field, old)} → {label(field, new)}" for field, (old, new) in changed.items()
    )


def mark_for_dispatch(appeal: Appeal, *, actor: User, note: str = "", proposed_unit: Unit | None = None) -> Appeal:
    """Put the appeal on the dispatch list (status → PENDING_DISPATCH)."""
    changes = {"proposed_unit_id": proposed_unit.pk} if proposed_unit else {}
    return _transition(
        appeal,
        to=AppealStatus.PENDING_DISPATCH,
        actor=actor,
        action=Action.MARKED_FOR_DISPATCH,
        note=note,
        changes=changes,
    )


def mark_dispatched(appeal: Appeal, *, unit: Unit, actor: User | None, note: str = "") -> Appeal:
    """The appeal went out as a work order to ``unit`` (status → DISPATCHED, lead unit set).

    Called by the work-orders app when it dispatches; dispatching again to the same unit is a
    no-op, to another unit (after a misrouted order came back) changes the lead unit.
    """
    return _transition(
        appeal,
        to=AppealStatus.DISPATCHED,
        actor=actor,
        action=Action.DISPATCHED,
        note=note,
        changes={"unit_id": unit.pk},
        data={"unit": unit.pk, "unit_name": unit.name},
    )


def close_appeal(appeal: Appeal, *, actor: User | None, reply: str, note: str = "") -> Appeal:
    """Answer the citizen and close (status → CLOSED, ``public_reply``, ``closed_at``). Idempotent."""
    reply = _required(reply, "reply", _("请填写答复内容。"))
    return _transition(
        appeal,
        to=AppealStatus.CLOSED,
        actor=actor,
        action=Action.CLOSED,
        note=note or reply,
        changes={"public_reply": reply, "closed_at": timezone.now()},
        status_only=True,
    )


def reopen_appeal(appeal: Appeal, *, actor: User | None, reason: str) -> Appeal:
    """A closed appeal goes back to work (CLOSED → DISPATCHED); already in work is a no-op."""
    reason = _required(reason, "reason", _("请填写重新办理的原因。"))
    return _transition(
        appeal,
        to=AppealStatus.DISPATCHED,
        actor=actor,
        action=Action.REOPENED,
        note=reason,
        changes={"closed_at": None},
        sources={AppealStatus.CLOSED},
        status_only=True,
    )


def merge_appeal(appeal: Appeal, *, into: Appeal, actor: User, note: str = "") -> Appeal:
    """Fold a duplicate into its original (status → MERGED); both timelines record it."""
    if into.pk == appeal.pk:
        raise Refused(_("不能将诉求合并到它自己。"))
    with transaction.atomic():
        # Lock both rows in id order so two opposite merges cannot deadlock.
        rows = {a.pk: a for a in Appeal.objects.select_for_update().filter(pk__in=[appeal.pk, into.pk]).order_by("pk")}
        locked, target = rows[appeal.pk], rows[into.pk]
        if locked.status == AppealStatus.MERGED and locked.merged_into_id == target.pk:
            refresh(appeal, locked)
            return appeal
        if target.status == AppealStatus.MERGED:
            raise Refused(_("目标诉求本身已被合并，请合并到原始诉求。"))
        result = _transition(
            appeal,
            to=AppealStatus.MERGED,
            actor=actor,
            action=Action.MERGED,
            note=note,
            changes={"merged_into_id": target.pk},
            data={"into": target.pk, "into_code": target.tracking_code},
        )
        record_event(
            target,
            action=Action.MERGED_IN,
            actor=actor,
            note=note,
            data={"from": appeal.pk, "from_code": locked.tracking_code},
        )
    return result


# --- Citizens' phones ------------------------------------------------------------------------


REVEAL_REASON_MAX_LENGTH = 200


def clean_reveal_reason(reason: str | None) -> str:
    """The reason given for a reveal, trimmed; a ValidationError in Chinese when there is none."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError(_("请填写查看事由（为什么需要查看完整号码）。"), code="reason_required")
    if len(text) > REVEAL_REASON_MAX_LENGTH:
        raise ValidationError(
            _("查看事由不能超过%(n)d个字。") % {"n": REVEAL_REASON_MAX_LENGTH}, code="reason_too_long"
        )
    return text


def record_phone_reveal(
    *,
    actor: User,
    reason: str | None,
    ip: str | None,
    object_type: str,
    object_id: int,
    object_label: str,
    appeal: Appeal | None = None,
) -> PhoneReveal:
    """Write one row of the central reveal log, for any page or API that shows a full number.

    Every reveal in every app goes through here, so the log is complete and each row has the
    same facts: who, when, from which address, why, and which object. Raises ValidationError
    when no reason is given (the caller shows the message and reveals nothing).
    """
    return PhoneReveal.objects.create(
        user=actor,
        reason=clean_reveal_reason(reason),
        ip=ip or None,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:64],
        appeal=appeal,
    )


def reveal_logged(
    phone: str,
    *,
    actor: User,
    reason: str | None,
    ip: str | None,
    object_type: str,
    object_id: int,
    object_label: str,
    timeline: Callable[[str], Any],
    appeal: Appeal | None = None,
) -> str:
    """Hand back ``phone`` once its reveal is on record: the one way every app shows a full number.

    Refuses without a reason (ValidationError, nothing revealed); with no number there is nothing
    to log. Otherwise writes the central reveal log row and the object's timeline step
    (``timeline(reason)``, the caller's) in one transaction, and only then returns the number.
    """
    reason = clean_reveal_reason(reason)
    if not phone:
        return ""
    with transaction.atomic():
        record_phone_reveal(
            actor=actor,
            reason=reason,
            ip=ip,
            object_type=object_type,
            object_id=object_id,
            object_label=object_label,
            appeal=appeal,
        )
        timeline(reason)
    return phone


def reveal_phone(appeal: Appeal, *, actor: User, reason: str | None, ip: str | None = None) -> str:
    """The citizen's full number, for a user who may see the appeal and says why; every call is
    logged.

    Steps: re-check visibility (the views fetch the appeal through ``visible_to``; this makes sure
    no path skips the rule), refuse without a reason (ValidationError), then write the reveal log
    and the timeline in one transaction, and only then hand back the number.
    """
    if not may_reveal_phone(actor, appeal):
        raise PermissionError("appeal not visible to this user")
    phone = reveal_logged(
        appeal.citizen_phone,
        actor=actor,
        reason=reason,
        ip=ip,
        object_type=RevealedObject.APPEAL,
        object_id=appeal.pk,
        object_label=appeal.tracking_code,
        appeal=appeal,
        timeline=lambda why: record_event(appeal, action=Action.PHONE_REVEALED, actor=actor, note=why),
    )
    return national(phone) if phone else ""
