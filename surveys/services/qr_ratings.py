"""QR ratings (扫码评警): rating points, the public form, bad reviews turned into rectification orders."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.phones import normalize_phone, phone_hash
from units.errors import Refused
from units.models import Unit, User

from .. import permissions, qr
from ..choices import (
    RatingSource,
    Verdict,
)
from ..models import (
    Callback,
    CallbackEvent,
    Rating,
    RatingPoint,
)

logger = logging.getLogger(__name__)


# --- QR ratings (扫码评警) ----------------------------------------------------------------------


class RateLimited(Exception):
    """Too many submissions from one device, phone or for one rating point (answers 429)."""


def save_rating_point(
    point: RatingPoint | None,
    *,
    actor: User,
    unit: Unit,
    kind: str,
    name: str,
    officer_code: str = "",
    officer: User | None = None,
    is_active: bool = True,
) -> RatingPoint:
    """Create (``point`` None) or edit a rating point. An officer's badge is matched to the user
    with that police number when there is one."""
    if not permissions.may_edit_rating_points(actor):
        raise PermissionDenied
    officer_code = (officer_code or "").strip()[:20]
    if officer is None and officer_code:
        officer = User.objects.filter(police_number=officer_code).first()
    if officer is not None and not officer_code:
        officer_code = officer.police_number
    point = point or RatingPoint()
    point.unit, point.kind, point.name = unit, kind, (name or "").strip()[:60]
    point.officer, point.officer_code, point.is_active = officer, officer_code, is_active
    if not point.name:
        raise ValidationError({"name": _("请填写评价点名称。")})
    if RatingPoint.objects.filter(unit=unit, name=point.name).exclude(pk=point.pk).exists():
        raise ValidationError({"name": _("本单位已有同名评价点。")})
    point.save()
    logger.info("rating point %s saved by user %s", point.pk, actor.pk)
    return point


def rotate_rating_point(point: RatingPoint, *, actor: User) -> RatingPoint:
    """Replace the point's QR code: the version goes up, so every sticker printed before now
    opens the "invalid link" page. Use it when a sticker was copied or misused."""
    if not permissions.may_edit_rating_points(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = RatingPoint.objects.select_for_update().get(pk=point.pk)
        locked.token_version += 1
        locked.rotated_at = timezone.now()
        locked.save(update_fields=["token_version", "rotated_at", "updated_at"])
    logger.info("rating point %s rotated to version %s by user %s", locked.pk, locked.token_version, actor.pk)
    return locked


def _check_qr_limits(*, point: RatingPoint, device: str, digest: str) -> None:
    from intake import ratelimit

    allowed = ratelimit.hit(
        f"qr:device:{device}", limit=settings.SURVEYS_QR_PER_DEVICE_PER_HOUR, window=3600
    ) and ratelimit.hit(f"qr:point:{point.pk}", limit=settings.SURVEYS_QR_PER_POINT_PER_HOUR, window=3600)
    if allowed and digest:
        allowed = ratelimit.hit(f"qr:phone:{digest}", limit=settings.SURVEYS_QR_PER_PHONE_PER_DAY, window=86400)
    if not allowed:
        raise RateLimited(_("提交过于频繁，请稍后再试。如有紧急情况请拨打110。"))


def submit_qr_rating(
    point: RatingPoint,
    *,
    verdict: str,
    device_id: str,
    tags: Iterable[str] = (),
    text: str = "",
    phone: str = "",
    now: dt.datetime | None = None,
) -> tuple[Rating, bool]:
    """Record a citizen's rating from the QR form. Returns (rating, folded).

    1. validate the verdict, tags and the optional phone (Chinese errors);
    2. count the submission against the device, the point and the phone (``RateLimited``);
    3. lock the point (submissions to one point queue) and look for a rating from the same device
       for this point within SURVEYS_QR_FOLD_HOURS: found, it is updated (folded), else one is made;
    4. after commit, a bad review warns the unit's leaders and opens the rectification work order
       (``rectify_bad_review``; the sweeper re-drives it if that step fails).
    """
    from ..choices import QR_VERDICTS, QrTag

    if verdict not in QR_VERDICTS:
        raise ValidationError({"verdict": _("请选择满意、基本满意或不满意。")})
    chosen = [t for t in dict.fromkeys(tags or ()) if t]
    unknown = [t for t in chosen if t not in QrTag.values]
    if unknown:
        raise ValidationError({"tags": _("未知的评价标签。")})
    e164 = normalize_phone(phone) if (phone or "").strip() else ""
    digest = phone_hash(e164) if e164 else ""
    device = qr.device_key(device_id)
    if not device:
        raise ValidationError(_("请先打开评价页面再提交（需要允许浏览器保存 Cookie）。"))
    _check_qr_limits(point=point, device=device, digest=digest)
    now = now or timezone.now()
    text = (text or "").strip()[:500]
    with transaction.atomic():
        locked = RatingPoint.objects.select_for_update().get(pk=point.pk)
        if not locked.is_active:
            raise Refused(_("该评价点已停用。"))
        rating = (
            Rating.objects.select_for_update()
            .filter(
                source=RatingSource.QR,
                rating_point=locked,
                device_hash=device,
                rated_at__gte=now - dt.timedelta(hours=settings.SURVEYS_QR_FOLD_HOURS),
            )
            .order_by("-rated_at", "-id")
            .first()
        )
        folded = rating is not None
        if rating is None:
            rating = Rating(
                source=RatingSource.QR, rating_point=locked, unit=locked.unit, device_hash=device, rated_at=now
            )
        else:
            rating.folds += 1
            rating.updated_at = now
        rating.verdict, rating.tags, rating.text = verdict, chosen, text
        if e164:
            rating.phone, rating.phone_hash = e164, digest
        rating.save()
    if rating.verdict == Verdict.DISSATISFIED:
        try:
            rating = rectify_bad_review(rating)
        except Exception:  # the rating is saved; the sweeper opens the order later
            logger.exception("QR rating %s: rectification deferred to the sweeper", rating.pk)
    return rating, folded


def rectify_bad_review(rating: Rating, *, actor: User | None = None) -> Rating:
    """A dissatisfied QR rating: open a rectification work order to the rated unit (an appeal of
    channel "qr_rating" dispatched with SURVEYS_RECTIFICATION_WORKING_DAYS), warn the unit's
    leaders, and, when the citizen left a phone, put a callback on the desk (already linked to the
    order, so the desk does not open a second one). Doing it twice opens one order."""
    from django.urls import reverse

    from intake.choices import Channel, Kind
    from intake.services import create_appeal
    from units.services import leaders_of, notify
    from workorders.services import dispatch_appeal

    with transaction.atomic():
        current = (
            Rating.objects.select_for_update(of=("self",)).select_related("rating_point", "unit").get(pk=rating.pk)
        )
        if current.verdict != Verdict.DISSATISFIED or current.rectification_appeal_id or current.unit is None:
            return current
        point = current.rating_point
        place = str(point) if point else current.unit.name
        details = "，".join(current.tag_labels + ([current.text] if current.text else [])) or _("未填写原因")
        appeal, _created = create_appeal(
            channel=Channel.QR_RATING,
            external_id=f"qr-rating-{current.pk}",
            title=_("扫码差评：%(p)s") % {"p": place},
            content=_("群众扫码评价“不满意”（%(p)s）：%(d)s") % {"p": place, "d": details},
            citizen_phone=current.phone or "",
            kind=Kind.COMPLAINT,
            received_at=current.rated_at,
            actor=actor,
        )
        order = dispatch_appeal(
            appeal,
            unit=current.unit,
            actor=None,  # the system dispatches: the citizen, not a staff member, raised it
            note=_("群众扫码评价不满意，请核实情况、整改并反馈。"),
            working_days=settings.SURVEYS_RECTIFICATION_WORKING_DAYS,
        )
        current.rectification_appeal, current.rectification_order_id = appeal, order.pk
        current.save(update_fields=["rectification_appeal", "rectification_order_id"])
        if current.phone:
            callback, created = Callback.objects.get_or_create(
                rating=current,
                defaults={
                    "unit": current.unit,
                    "due_at": timezone.now() + dt.timedelta(hours=settings.SURVEYS_CALLBACK_DUE_HOURS),
                    "rectification_appeal": appeal,
                    "rectification_order_id": order.pk,
                },
            )
            if created:
                CallbackEvent.objects.create(
                    callback=callback,
                    action="created",
                    to_status=callback.status,
                    note=_("扫码差评，已派发整改工单%(n)s") % {"n": order.number},
                )
        notify(
            users=leaders_of(current.unit),
            text=_("%(p)s收到一条扫码“不满意”评价（%(d)s），已生成整改工单%(n)s，请核实整改。")
            % {"p": place, "d": details[:80], "n": order.number},
            url=reverse("workorders:detail", args=[order.pk]),
            level="alert",  # a bad review: 紧急
            dedupe_key=f"surveys:qr-bad-review:{current.pk}",
        )
    return current


def rectify_pending_bad_reviews(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """The sweeper of bad QR reviews whose order could not be opened at once (the work-order app
    failed or the process died after the rating was saved). Returns how many it opened."""
    now = now or timezone.now()
    pending = list(
        Rating.objects.filter(
            source=RatingSource.QR,
            verdict=Verdict.DISSATISFIED,
            rectification_appeal__isnull=True,
            unit__isnull=False,
            rated_at__lt=now - dt.timedelta(minutes=1),
        ).order_by("rated_at")[:limit]
    )
    done = 0
    for rating in pending:
        try:
            if rectify_bad_review(rating).rectification_appeal_id:
                done += 1
        except Exception:  # one bad row must not stop the others
            logger.exception("QR rating %s: rectification failed again", rating.pk)
    return done
