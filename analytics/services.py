"""Business operations of the analytics app: compute and publish rankings, generate bulletins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from units.choices import Tier
from units.copy_rows import insert_rows
from units.enqueue import send_task_after_commit
from units.errors import Refused
from units.models import Unit
from units.transitions import record, transition

from . import permissions
from .aggregates import refresh_for, stored_metrics
from .choices import LOWER_IS_BETTER, METRIC_KEYS, METRIC_LABELS, BulletinKind, ListFlag, RankingStatus
from .hotspots import hotspot_title
from .metrics import UnitMetrics, basic_weight
from .models import Bulletin, Ranking, RankingEntry, RankingPolicy
from .periods import Period, day, month_of, previous_month, week_of

# Tiers that are ranked, each against itself (stations with stations, bureaus with bureaus).
RANKED_TIERS = (Tier.STATION, Tier.DISTRICT, Tier.DEPARTMENT)


# Codes of the refusals (units.errors.Refused) of a ranking move; the API answers them 409.
FROZEN = "frozen"  # a published month is frozen: it is never recomputed
MONTH_NOT_OVER = "month_not_over"  # only a finished month can be published


def ranking_policy() -> tuple[dict[str, float], int, int]:
    """(weights, min sample, list size): the newest active ``RankingPolicy``, else the settings."""
    policy = RankingPolicy.objects.filter(is_active=True).first()
    if policy is not None:
        raw, min_sample, list_size = policy.weights, policy.min_sample, policy.list_size
    else:
        raw = settings.ANALYTICS_RANKING_WEIGHTS
        min_sample, list_size = settings.ANALYTICS_RANKING_MIN_SAMPLE, settings.ANALYTICS_RANKING_LIST_SIZE
    weights = {k: float(v) for k, v in dict(raw).items() if float(v) > 0}
    unknown = set(weights) - set(METRIC_LABELS)
    if unknown:
        raise ValidationError(_("未知的排名指标：%(keys)s") % {"keys": ", ".join(sorted(unknown))})
    return weights, min_sample, list_size


def score_of(m: UnitMetrics, weights: Mapping[str, float], ratios: Mapping | None = None) -> float | None:
    """Weighted mean (0–100) of the unit's rates; a metric with nothing to measure is left out and
    the remaining weights renormalised, so a unit is not punished for having had no dissatisfied
    citizen. Lower-is-better rates (repeat, escalation) count as 1 − rate. ``ratios``: the unit's
    ``UnitMetrics.ratios()`` when already built."""
    ratios = m.ratios() if ratios is None else ratios
    total = weight_sum = 0.0
    for key, w in weights.items():
        num, den = ratios[key]
        if not den:
            continue
        rate = num / den
        total += w * ((1 - rate) if key in LOWER_IS_BETTER else rate)
        weight_sum += w
    return round(100 * total / weight_sum, 2) if weight_sum else None


def rank_units(
    metrics: Mapping[int, UnitMetrics],
    codes: Mapping[int, str],
    *,
    weights: Mapping[str, float],
    min_sample: int,
    list_size: int,
    ratios_of: Mapping[int, Mapping] | None = None,
) -> dict[int, dict]:
    """Score, rank and flag each unit. Pure function. ``ratios_of``: each unit's
    ``UnitMetrics.ratios()`` when the caller has built them already.

    Units below ``min_sample`` (or with nothing to score) are not ranked. Ranks are competition
    ranks (equal scores share a place). The red list is the top ``n`` and the black list the
    bottom ``n`` of the ranked units, with ``n = min(list_size, ranked // 2)`` so that no unit is
    on both lists.
    """
    out: dict[int, dict] = {}
    ranked: list[tuple[float, str, int]] = []
    for uid, m in metrics.items():
        ratios = ratios_of[uid] if ratios_of is not None else None
        score = score_of(m, weights, ratios)
        eligible = score is not None and m.sample >= min_sample
        out[uid] = {"score": score, "eligible": eligible, "rank": None, "flag": ListFlag.NONE}
        if eligible:
            ranked.append((score, codes[uid], uid))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    for i, (score, _code, uid) in enumerate(ranked):
        place = i + 1
        if i and score == ranked[i - 1][0]:
            place = out[ranked[i - 1][2]]["rank"]
        out[uid]["rank"] = place
    n = min(list_size, len(ranked) // 2)
    for _s, _c, uid in ranked[:n]:
        out[uid]["flag"] = ListFlag.RED
    for _s, _c, uid in ranked[len(ranked) - n :] if n else []:
        out[uid]["flag"] = ListFlag.BLACK
    return out


def _require(actor, allowed) -> None:
    """Refuse an actor ``allowed`` (a ``permissions.may_*``) says no to; ``None`` is the system."""
    if actor is not None and not allowed(actor):
        raise PermissionDenied(_("您无权执行该操作。"))


def compute_ranking(*, month: dt.date, tier: str, actor=None, min_sample: int | None = None) -> Ranking:
    """Compute (or recompute) the draft red/black list of a month for one tier.

    Steps: fold the month's marked buckets in; get or create the (month, tier) row; lock it;
    refuse if published (``Refused``, code ``frozen``); sum every unit's stored daily subtree rows (one grouped
    query); replace the entries; record
    the event. Computing twice with the same data gives the same entries and one ranking row.
    ``min_sample`` overrides ``ANALYTICS_RANKING_MIN_SAMPLE`` (it is stored with the ranking).
    """
    _require(actor, permissions.may_compute)
    if tier not in RANKED_TIERS:
        raise ValidationError(_("该层级不参与红黑榜排名。"))
    period = month_of(month)
    # Fold the month's marked buckets in first: a ranking is kept, so it must be exact.
    refresh_for(period)
    Ranking.objects.get_or_create(month=period.first, tier=tier)
    weights, policy_min_sample, list_size = ranking_policy()
    with transaction.atomic():
        ranking = Ranking.objects.select_for_update().get(month=period.first, tier=tier)
        if ranking.is_published:
            raise Refused(_("%(ranking)s 已发布，数据已冻结，不能重新计算。") % {"ranking": ranking}, code=FROZEN)
        codes = dict(Unit.objects.filter(tier=tier, is_active=True).values_list("pk", "code"))
        w = basic_weight()
        metrics = stored_metrics(period, list(codes), weight=w)
        if min_sample is None:
            min_sample = policy_min_sample
        ratios_of = {pk: m.ratios() for pk, m in metrics.items()}
        placed = rank_units(
            metrics, codes, weights=weights, min_sample=min_sample, list_size=list_size, ratios_of=ratios_of
        )
        ranking.entries.all().delete()
        insert_rows(
            RankingEntry,
            (
                {
                    "ranking_id": ranking.pk,
                    "unit_id": pk,
                    "figures": metrics[pk].as_dict(ratios_of[pk]),
                    "sample": metrics[pk].sample,
                    **placed[pk],
                }
                for pk in codes
            ),
        )
        first = ranking.computed_at is None
        ranking.weights = weights
        ranking.basic_weight = w
        ranking.min_sample = min_sample
        ranking.list_size = list_size
        ranking.computed_at = timezone.now()
        ranking.computed_by = actor
        ranking.save()
        record(
            ranking,
            actor=actor,
            action="compute" if first else "recompute",
            from_status=ranking.status,
            to_status=ranking.status,
        )
    return ranking


def publish_ranking(ranking: Ranking, *, actor) -> Ranking:
    """Publish (freeze) a month's ranking. Publishing a published ranking changes nothing.

    Steps: lock the row; return if already published; compute it first if it never was; mark it
    published with who and when; record the event. Its entries are never recomputed afterwards.
    """
    _require(actor, permissions.may_publish)
    if Ranking.objects.filter(pk=ranking.pk, computed_at__isnull=True).exists():
        compute_ranking(month=ranking.month, tier=ranking.tier, actor=actor)

    def month_over(locked: Ranking) -> None:
        if locked.month >= month_of(timezone.localdate()).first:
            raise Refused(_("本月尚未结束，不能发布本月红黑榜。"), code=MONTH_NOT_OVER)

    def stamp(locked: Ranking) -> None:
        locked.published_at = timezone.now()
        locked.published_by = actor

    return transition(
        ranking,
        action="publish",
        actor=actor,
        to=RankingStatus.PUBLISHED,
        sources={RankingStatus.DRAFT},
        guard=month_over,
        apply=stamp,
        after=_tell_listed_units,
        update_fields=["published_at", "published_by"],
    )


def _tell_listed_units(ranking: Ranking) -> None:
    """Tell the leaders of each unit on the red or black list (once per ranking and unit)."""
    from django.urls import reverse

    from units.models import Notification
    from units.services import leaders_of, notify

    url = reverse("analytics:ranking", args=[ranking.pk])
    for entry in ranking.entries.exclude(flag=ListFlag.NONE).select_related("unit"):
        if entry.flag == ListFlag.BLACK:
            text = _(
                "%(ranking)s红黑榜已发布：%(unit)s列入黑榜（第%(rank)s名，综合得分%(score)s），请分析原因、落实整改。"
            )
            level = Notification.Level.WARNING
        else:
            text = _("%(ranking)s红黑榜已发布：%(unit)s列入红榜（第%(rank)s名，综合得分%(score)s）。")
            level = Notification.Level.INFO
        notify(
            users=leaders_of(entry.unit),
            text=text
            % {"ranking": ranking, "unit": entry.unit.name, "rank": entry.rank, "score": f"{entry.score:.2f}"},
            url=url,
            level=level,
            dedupe_key=f"analytics-ranking:{ranking.pk}:{entry.unit_id}",
        )


def bulletin_period(kind: str, on: dt.date) -> Period:
    """The period of the bulletin of this kind that contains ``on``."""
    if kind == BulletinKind.DAILY:
        return day(on)
    if kind == BulletinKind.WEEKLY:
        return week_of(on)
    if kind == BulletinKind.MONTHLY:
        return month_of(on)
    raise ValidationError(_("未知的通报类型。"))


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _compare(now: dict, before: dict) -> str:
    """ "较上期…" sentence: appeals up or down, satisfaction in percentage points."""
    diff = now["appeals"] - before["appeals"]
    if diff > 0:
        appeals = _("诉求量较上期增加%(n)s件") % {"n": diff}
    elif diff < 0:
        appeals = _("诉求量较上期减少%(n)s件") % {"n": -diff}
    else:
        appeals = _("诉求量与上期持平")
    a, b = now["satisfaction"]["rate"], before["satisfaction"]["rate"]
    if a is None or b is None:
        return appeals + _("。")
    points = (a - b) * 100
    if abs(points) < 0.05:
        return appeals + _("，满意率与上期持平。")
    if points > 0:
        return appeals + _("，满意率上升%(p).1f个百分点。") % {"p": points}
    return appeals + _("，满意率下降%(p).1f个百分点。") % {"p": -points}


def summarise(kind: str, period: Period, content: dict) -> tuple[str, str]:
    """Title and text summary of a bulletin, written from its figures in the active language
    (Chinese, the source language, when the periodic job writes it)."""
    t = content["totals"]
    label = BulletinKind(kind).label
    if kind == BulletinKind.DAILY:
        title = _("%(date)s民意%(kind)s") % {"date": f"{period.first:%Y年%m月%d日}", "kind": label}
    elif kind == BulletinKind.WEEKLY:
        title = _("%(first)s—%(last)s民意%(kind)s") % {
            "first": f"{period.first:%Y年%m月%d日}",
            "last": f"{period.last:%m月%d日}",
            "kind": label,
        }
    else:
        title = _("%(month)s民意%(kind)s") % {"month": f"{period.first:%Y年%m月}", "kind": label}
    channels = sorted((c for c in content["channels"] if c["n"]), key=lambda c: -c["n"])[:3]
    channel_text = _("、").join(_("%(channel)s%(n)s件") % {"channel": c["label"], "n": c["n"]} for c in channels) or _(
        "无"
    )
    parts = [
        _("%(period)s，全市共受理群众诉求%(appeals)s件，主要来自%(channels)s。")
        % {"period": period.label(), "appeals": t["appeals"], "channels": channel_text},
        _(
            "群众评价%(ratings)s条，满意率%(satisfaction)s；到期工单%(due)s件，办结率%(completion)s，按期办结率%(on_time)s。"
        )
        % {
            "ratings": t["ratings"],
            "satisfaction": _pct(t["satisfaction"]["rate"]),
            "due": t["counts"]["due"],
            "completion": _pct(t["completion"]["rate"]),
            "on_time": _pct(t["on_time"]["rate"]),
        },
        _(
            "不满意事项%(dissatisfied)s件，化解率%(resolution)s；重复投诉率%(repeat)s；"
            "升级投诉%(escalations)s件；回访短信回复率%(reply)s。"
        )
        % {
            "dissatisfied": t["counts"]["dissatisfied"],
            "resolution": _pct(t["resolution"]["rate"]),
            "repeat": _pct(t["repeat"]["rate"]),
            "escalations": t["escalations"],
            "reply": _pct(t["reply"]["rate"]),
        },
    ]
    before = (content.get("previous") or {}).get("totals")
    if before:
        parts.append(_compare(t, before))
    hotspots = content.get("hotspots") or []
    if hotspots:
        tops = _("；").join(
            _("“%(label)s”（%(citizens)s人反映）") % {"label": hotspot_title(h["label"], 20), "citizens": h["citizens"]}
            for h in hotspots[:3]
        )
        parts.append(_("发现一类事%(n)s起，主要有：%(tops)s，请相关单位关注。") % {"n": len(hotspots), "tops": tops})
    low = content.get("lowest_stations") or []
    if low:
        names = _("、").join(
            _("%(name)s（%(rate)s）") % {"name": u["name"], "rate": _pct(u["satisfaction"]["rate"])} for u in low[:3]
        )
        parts.append(_("满意率较低的基层单位：%(names)s。") % {"names": names})
    return title, "".join(parts)


def generate_bulletin(*, kind: str, on: dt.date, actor=None) -> tuple[Bulletin, bool]:
    """Generate and keep the bulletin of this kind for the period containing ``on``.

    One per kind and period: if it exists it is returned unchanged (``created`` False). Only
    finished periods are generated, so that a kept bulletin never misses the end of its period.
    """
    if actor is not None:
        _require(actor, permissions.may_compute)
    from .selectors import bulletin_content

    period = bulletin_period(kind, on)
    existing = Bulletin.objects.filter(kind=kind, period_start=period.first).first()
    if existing is not None:
        return existing, False
    if period.until > timezone.localdate():
        raise ValidationError(_("该统计周期尚未结束，不能生成通报。"))
    previous = bulletin_period(kind, period.first - dt.timedelta(days=1))
    content = bulletin_content(period, previous=previous)
    content["sections"] = contributed_sections(period)
    title, summary = summarise(kind, period, content)
    try:
        with transaction.atomic():
            bulletin = Bulletin.objects.create(
                kind=kind,
                period_start=period.first,
                period_end=period.until,
                title=title,
                summary=summary,
                content=content,
                generated_by=actor,
            )
    except IntegrityError:
        # Generated at the same moment by another worker: that one is the bulletin.
        return Bulletin.objects.get(kind=kind, period_start=period.first), False
    request_bulletin_pdf(bulletin)
    return bulletin, True


def contributed_sections(period) -> list[dict]:
    """What other apps add to a bulletin (``BULLETIN_SECTIONS`` in their nav.py, e.g. the period's
    alerts), kept in its content as it was at generation: the template and its JSON data."""
    from units.navigation import contributions

    return [{"template": s.template, "data": s.context(period)} for s in contributions("BULLETIN_SECTIONS")]


def request_bulletin_pdf(bulletin: Bulletin) -> bool:
    """Queue the printing of the bulletin's PDF (after commit). False when PDFs are off or gave up."""
    from .pdf import browser_path
    from .tasks import render_bulletin_pdf_task

    if bulletin.pdf or bulletin.pdf_attempts >= settings.ANALYTICS_PDF_MAX_ATTEMPTS or browser_path() is None:
        return False
    send_task_after_commit(render_bulletin_pdf_task, bulletin.pk)
    return True


def render_bulletin_pdf(bulletin: Bulletin) -> bool:
    """Print the kept bulletin to PDF once and store it with the bulletin.

    Steps: claim an attempt with a conditional UPDATE (no PDF yet, attempts under the cap) so a
    duplicate task does nothing when the cap is reached; print outside any transaction (a
    subprocess of a few seconds); store the file only if the bulletin still has none (a racing
    worker's file is removed), or record the error for the next attempt.
    """
    import subprocess

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db.models import F
    from django.template.loader import render_to_string

    from .pdf import PdfUnavailable, browser_path, html_to_pdf, static_file_url
    from .selectors import bulletin_charts

    if browser_path() is None:
        return False
    claimed = Bulletin.objects.filter(
        pk=bulletin.pk, pdf="", pdf_attempts__lt=settings.ANALYTICS_PDF_MAX_ATTEMPTS
    ).update(pdf_attempts=F("pdf_attempts") + 1)
    if not claimed:
        return False
    bulletin.refresh_from_db()
    html = render_to_string(
        "analytics/bulletin_pdf.html",
        {
            "bulletin": bulletin,
            "metric_keys": METRIC_KEYS,
            "metric_labels": METRIC_LABELS,
            "charts": bulletin_charts(bulletin),
            "echarts_url": static_file_url("vendor/echarts/echarts.min.js"),
            "charts_js_url": static_file_url("js/analytics.js"),
            "css_url": static_file_url("css/bulletin_pdf.css"),
        },
    )
    try:
        data = html_to_pdf(html)
    except (PdfUnavailable, RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        Bulletin.objects.filter(pk=bulletin.pk).update(pdf_error=str(exc)[:300])
        return False
    name = default_storage.save(
        f"analytics/bulletins/{bulletin.kind}-{bulletin.period_start:%Y%m%d}.pdf", ContentFile(data)
    )
    if not Bulletin.objects.filter(pk=bulletin.pk, pdf="").update(pdf=name, pdf_error=""):
        default_storage.delete(name)
        return False
    return True


def generate_due_bulletins(*, today: dt.date | None = None) -> list[Bulletin]:
    """Yesterday's daily summary, last week's analysis, last month's bulletin and last month's
    draft rankings, each made once: the periodic job calls this every hour and a missed run is
    caught up by the next."""
    today = today or timezone.localdate()
    made = []
    yesterday = today - dt.timedelta(days=1)
    for kind, on in (
        (BulletinKind.DAILY, yesterday),
        (BulletinKind.WEEKLY, today - dt.timedelta(days=today.weekday() + 1)),
        (BulletinKind.MONTHLY, previous_month(today).first),
    ):
        bulletin, created = generate_bulletin(kind=kind, on=on)
        if created:
            made.append(bulletin)
    # Re-drive PDFs whose task was lost (the row, not the broker message, is the truth).
    waiting = Bulletin.objects.filter(pdf="", pdf_attempts__lt=settings.ANALYTICS_PDF_MAX_ATTEMPTS)
    for bulletin in waiting.exclude(pk__in=[b.pk for b in made]).order_by("-period_start")[:10]:
        request_bulletin_pdf(bulletin)
    last_month = previous_month(today).first
    for tier in RANKED_TIERS:
        if not Ranking.objects.filter(month=last_month, tier=tier, computed_at__isnull=False).exists():
            compute_ranking(month=last_month, tier=tier)
    return made


def recompute_recent_aggregates(*, today: dt.date | None = None) -> int:
    """The nightly job: recompute yesterday and the ``ANALYTICS_NIGHTLY_DAYS`` - 1 days before it in
    full (late delivery reports, a mark lost with a crashed autocommit write), then every bucket
    still marked (late data on any older day). Returns the days recomputed in full."""
    from .aggregates import refresh_days, refresh_marked

    today = today or timezone.localdate()
    days = [today - dt.timedelta(days=i) for i in range(1, max(settings.ANALYTICS_NIGHTLY_DAYS, 1) + 1)]
    n = refresh_days(days)
    refresh_marked()
    return n


def rebuild_aggregates(*, first: dt.date, until: dt.date, progress=None) -> int:
    """Recompute every day of [first, until) from the source tables: after a restore, a bulk load
    that bypassed the models, or a change of a metric's definition. Set-wise, a month per
    transaction (``aggregates.rebuild_range``); ``progress(first, until)`` after each month.
    Returns the days done."""
    from .aggregates import rebuild_range

    if until <= first:
        raise ValidationError(_("结束日期须晚于开始日期。"))
    return rebuild_range(first, until, progress=progress)
