"""Hotspots (一类事): many similar appeals from different citizens in a short time.

The same noisy bar or the same dangerous crossing reaches us as a dozen appeals in different
words from different people. Appeals of the period are grouped greedily by character-bigram
cosine similarity (``intake.similarity``) of their content and address; a group becomes a
hotspot when it holds appeals from at least ``ANALYTICS_HOTSPOT_MIN_CITIZENS`` different
citizens (told apart by the keyed phone hash; an appeal without a phone is its own citizen).
A group spans at most ``ANALYTICS_HOTSPOT_WINDOW_DAYS`` from its first appeal ("a short time");
the same matter raised again later starts a new group.

An inverted index from bigram to group keeps the comparison to the groups that share words
with the appeal, so a week of a city's appeals is grouped in well under a second.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from intake.similarity import ngrams
from intake.similarity import norm as vector_norm
from units.logging import mask

from .periods import Period


@dataclass
class Hotspot:
    """One class of problem: its appeals, how many citizens raised it, where and when."""

    label: str
    appeal_ids: list[int] = field(default_factory=list)
    citizens: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    category: str = ""
    address: str = ""
    units: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.appeal_ids)

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "appeals": self.size,
            "citizens": self.citizens,
            "appeal_ids": self.appeal_ids[:50],
            "first_at": timezone.localtime(self.first_at).isoformat() if self.first_at else None,
            "last_at": timezone.localtime(self.last_at).isoformat() if self.last_at else None,
            "category": self.category,
            "address": self.address,
            "units": self.units,
        }


@dataclass
class _Group:
    grams: Counter
    norm: float
    members: list = field(default_factory=list)
    started: datetime | None = None


def group_texts(
    items: list[tuple[int, str]] | list[tuple[int, str, datetime]],
    *,
    threshold: float,
    window: timedelta | None = None,
) -> list[list[int]]:
    """Greedy grouping of (id, text[, time]) by bigram cosine to each group's first text. Pure function.

    Items come in time order; with ``window`` an item only joins a group whose first item is at
    most that much older (a "short time"), else it starts a new group.
    """
    groups: list[_Group] = []
    index: dict[str, dict[int, int]] = defaultdict(dict)
    for item in items:
        item_id, text = item[0], item[1]
        when = item[2] if len(item) > 2 else None
        grams = ngrams(text)
        norm = vector_norm(grams)
        if not norm:
            continue
        # The dot product with every group sharing a bigram, summed along the inverted index in
        # one pass (the index holds each group's count of the gram): no second pass per candidate.
        dots: dict[int, float] = defaultdict(float)
        for g, count in grams.items():
            for gi, group_count in index.get(g, {}).items():
                dots[gi] += count * group_count
        best, best_score = None, threshold
        for gi, dot in dots.items():
            group = groups[gi]
            if window and when and group.started and when - group.started > window:
                continue
            score = min(1.0, dot / (norm * group.norm))
            if score >= best_score:
                best, best_score = gi, score
        if best is None:
            groups.append(_Group(grams, norm, [item_id], when))
            for g, count in grams.items():
                index[g][len(groups) - 1] = count
        else:
            groups[best].members.append(item_id)
    return [g.members for g in groups]


def find_hotspots(
    period: Period,
    *,
    within=None,
    min_citizens: int | None = None,
    threshold: float | None = None,
    window_days: int | None = None,
    limit: int = 10,
) -> list[Hotspot]:
    """Hotspots among the appeals received in the period (optionally in one unit's subtree), biggest first."""
    from intake.choices import AppealStatus
    from intake.models import Appeal

    min_citizens = settings.ANALYTICS_HOTSPOT_MIN_CITIZENS if min_citizens is None else min_citizens
    threshold = settings.ANALYTICS_HOTSPOT_SIMILARITY if threshold is None else threshold
    qs = Appeal.objects.filter(received_at__gte=period.start, received_at__lt=period.end).exclude(
        status=AppealStatus.MERGED
    )
    if within is not None:
        qs = qs.filter(unit__path__startswith=within.path)
    # The most recent appeals when the period holds more than the cap (what is happening now
    # matters most), then in time order for the grouping.
    rows = list(
        qs.order_by("-received_at", "-id").values(
            "id",
            "content",
            "address",
            "title",
            "citizen_phone_hash",
            "received_at",
            "category__name",
            "unit__name",
        )[: settings.ANALYTICS_HOTSPOT_MAX_APPEALS]
    )
    rows.reverse()
    by_id = {r["id"]: r for r in rows}
    window = timedelta(days=settings.ANALYTICS_HOTSPOT_WINDOW_DAYS if window_days is None else window_days)
    groups = group_texts(
        [(r["id"], f"{r['content']} {r['address']}", r["received_at"]) for r in rows],
        threshold=threshold,
        window=window,
    )
    found: list[Hotspot] = []
    for members in groups:
        members_rows = [by_id[i] for i in members]
        citizens = {r["citizen_phone_hash"] or f"appeal-{r['id']}" for r in members_rows}
        if len(citizens) < min_citizens:
            continue
        first = members_rows[0]
        # Masked before it is cut: a label goes into bulletins, their Excel and PDF files.
        label = mask((first["title"] or first["content"]).strip().replace("\n", " "))
        categories = Counter(r["category__name"] for r in members_rows if r["category__name"])
        addresses = Counter(r["address"] for r in members_rows if r["address"])
        units = Counter(r["unit__name"] for r in members_rows if r["unit__name"])
        found.append(
            Hotspot(
                label=hotspot_title(label, 40),
                appeal_ids=[r["id"] for r in members_rows],
                citizens=len(citizens),
                first_at=members_rows[0]["received_at"],
                last_at=members_rows[-1]["received_at"],
                category=categories.most_common(1)[0][0] if categories else "",
                address=mask(addresses.most_common(1)[0][0]) if addresses else "",
                units=[name for name, _n in units.most_common(3)],
            )
        )
    found.sort(key=lambda h: (-h.citizens, -h.size, h.first_at))
    return found[:limit]


def hotspot_cache_seconds() -> int:
    return settings.ANALYTICS_HOTSPOT_CACHE_SECONDS


def _cache_key(period: Period, within, limit: int) -> str:
    node = within.pk if within is not None else "city"
    return f"analytics:hotspots:{period.start.isoformat()}:{period.end.isoformat()}:{node}:{limit}"


def recent_hotspots(period: Period, *, within=None, limit: int = 10, refresh: bool = False) -> list[Hotspot]:
    """``find_hotspots`` kept in the cache for ``ANALYTICS_HOTSPOT_CACHE_SECONDS`` (300): the
    dashboard's hotspots are at most that old.

    Grouping the period's newest appeals costs most of a second of CPU at a province's volume, so
    the dashboard reads the kept result, and the minute job refreshes the city's today, this week
    and this month before they expire (``warm_hotspots``). The cache is a helper: when it is away
    the hotspots are computed in the request (``units.cache.soft_cache`` fails open).
    """
    from units.cache import soft_cache

    seconds = hotspot_cache_seconds()
    if seconds <= 0 or settings.ANALYTICS_REFRESH_ON_READ:  # exact reads asked for: nothing kept
        return find_hotspots(period, within=within, limit=limit)
    key = _cache_key(period, within, limit)
    kept = None if refresh else soft_cache.get(key)
    if kept is not None:
        return kept
    found = find_hotspots(period, within=within, limit=limit)
    soft_cache.set(key, found, seconds)
    return found


def warm_hotspots(*, limit: int = 8) -> int:
    """Recompute the city's hotspots of today, this week and this month when the kept result is
    more than half its lifetime old (the minute job calls this). Returns how many were computed."""
    from units.cache import soft_cache

    from .periods import to_date

    seconds = hotspot_cache_seconds()
    if seconds <= 0 or settings.ANALYTICS_REFRESH_ON_READ:
        return 0
    done = 0
    for period in to_date(timezone.localdate()).values():
        stamp = f"{_cache_key(period, None, limit)}:fresh"
        if soft_cache.get(stamp) is not None:
            continue
        recent_hotspots(period, limit=limit, refresh=True)
        soft_cache.set(stamp, 1, seconds // 2)
        done += 1
    return done


# A phrase ends at Chinese or ASCII punctuation; a word of Latin letters or digits is never split.
_PHRASE_ENDS = "，。；：！？、,.;:!? "
_ELLIPSIS = "…"


def hotspot_title(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut where a phrase ends rather than mid-phrase.

    "小区门口夜间常有货车鸣笛卸货，影响居民休息" at 18 becomes "小区门口夜间常有货车鸣笛卸货…", not
    "小区门口夜间常有货车鸣笛卸货，影响居…". Without a phrase end in the latter half of the allowance
    the cut falls between a Chinese character and a number or Latin word, never inside one.
    """
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    room = max(limit - len(_ELLIPSIS), 1)
    head = text[: room + 1]  # one more: a phrase may end right at the limit
    cut = max(head.rfind(mark) for mark in _PHRASE_ENDS)
    if cut < room // 2:
        cut = room
        while cut > room // 2 and _word_char(text[cut - 1]) and _word_char(text[cut]):
            cut -= 1  # step back out of a number or a Latin word
    return text[:cut].rstrip(_PHRASE_ENDS) + _ELLIPSIS


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()
