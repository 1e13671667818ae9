"""The one FilterSet of appeals, shared by the triage desk and the API."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django.db import connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units import widgets
from units.choices import Tier
from units.models import Unit

from .choices import AppealStatus, Channel, Kind, Severity
from .models import Appeal, Category
from .phones import hash_of

# Above this many units the filter offers the units down to the district bureaus (a bureau's
# filter includes its stations), plus the unit chosen: a province has 8,000 stations.
UNIT_CHOICES_CAP = 500


def _units(request):
    """The units a user may filter on: those he sees (all for city-wide roles)."""
    units = Unit.objects.filter(is_active=True).only("id", "name", "path")
    user = getattr(request, "user", None)
    units = units.visible_to(user) if user is not None and user.is_authenticated else units
    if units.order_by()[: UNIT_CHOICES_CAP + 1].count() > UNIT_CHOICES_CAP:
        chosen = getattr(request, "GET", {}).get("unit", "")
        keep = Q(pk=int(chosen)) if chosen.isdigit() and len(chosen) <= 12 else Q(pk__in=[])
        units = units.filter(~Q(tier=Tier.STATION) | keep)
    return units


class QuickSelect(widgets.QuickSelect):
    """The unit select: its options read as (pk, name) pairs, no instance per unit (the stock
    widget cost three seconds of every desk page for a province's 9,000 units)."""

    label_field = "name"  # the model's __str__: read as a column


class AppealFilter(widgets.QuickFilterSet):
    """Channel, kind, category (with its sub-categories), severity, unit (with the units below it),
    status, received date range, repeat/enterprise flags and free text."""

    # distinct=False throughout: each filter is a condition on the appeal row itself, and DISTINCT
    # over every selected column would make PostgreSQL sort the whole result before the LIMIT.
    channel = django_filters.MultipleChoiceFilter(label=_("渠道"), choices=Channel.choices, distinct=False)
    kind = django_filters.MultipleChoiceFilter(label=_("诉求类型"), choices=Kind.choices, distinct=False)
    category = django_filters.ModelChoiceFilter(
        label=_("分类"),
        queryset=Category.objects.filter(is_active=True).select_related("parent"),
        method="filter_category",
        empty_label=_("全部"),
        distinct=False,
    )
    severity = django_filters.MultipleChoiceFilter(
        label=_("分级"), choices=Severity.choices, distinct=False, method="filter_severity"
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("责任单位"),
        queryset=lambda request: _units(request),
        method="filter_unit",
        empty_label=_("全部"),
        widget=QuickSelect,
    )
    status = django_filters.MultipleChoiceFilter(label=_("状态"), choices=AppealStatus.choices, distinct=False)
    # Days are local (Asia/Shanghai) days, turned into a range of instants: ``received_at >= start``
    # is an index range, ``received_at::date >= day`` (Django's __date) is a computation per row.
    received_after = django_filters.DateFilter(label=_("受理日期起"), method="filter_received_after")
    received_before = django_filters.DateFilter(label=_("受理日期止"), method="filter_received_before")
    is_repeat = django_filters.BooleanFilter(label=_("重复诉求"))
    is_enterprise = django_filters.BooleanFilter(label=_("涉企"))
    has_risk = django_filters.BooleanFilter(label=_("风险预警"), method="filter_risk")
    q = django_filters.CharFilter(label=_("关键词"), method="filter_text")

    class Meta:
        model = Appeal
        fields = ["channel", "kind", "category", "severity", "unit", "status", "is_repeat", "is_enterprise"]

    def filter_category(self, queryset, name, value):
        # The category and its sub-categories as ids: a condition on category_id, no join.
        if not value:
            return queryset
        ids = [value.pk, *Category.objects.filter(parent=value).values_list("pk", flat=True)]
        return queryset.filter(category_id__in=ids)

    def filter_severity(self, queryset, name, value):
        # Also as severity_rank, the leading column of the desk's indexes: the index then seeks to
        # the severity (and the received range within it) instead of reading every severity's rows.
        if not value:
            return queryset
        ranks = sorted({Severity(v).rank for v in value})
        queryset = queryset.filter(severity__in=value, severity_rank__in=ranks)
        return _on_entry(queryset, list_rank__in=ranks)

    def filter_unit(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(unit_id__in=list(Unit.objects.below(value).values_list("pk", flat=True)))

    def filter_received_after(self, queryset, name, value):
        if not value:
            return queryset
        return _on_entry(queryset.filter(received_at__gte=_day_start(value)), list_at__gte=_day_start(value))

    def filter_received_before(self, queryset, name, value):
        if not value:
            return queryset
        end = _day_start(value + timedelta(days=1))
        return _on_entry(queryset.filter(received_at__lt=end), list_at__lt=end)

    def filter_risk(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(risk_words="") if value else queryset.filter(risk_words="")

    def filter_text(self, queryset, name, value):
        condition = search_condition(value, vendor=connections[queryset.db].vendor)
        return queryset.filter(condition) if condition is not None else queryset


def _on_entry(queryset, **conditions):
    """``queryset`` with ``conditions`` on a unit's entry too when it reads a unit's entries
    (``selectors.seen_in_order``: ``list_rank`` and ``list_at`` are the entry's copies of the
    appeal's severity rank and received time): the same rows, and a severity or a range of days
    is then a range of the unit's entry index instead of a filter on the appeals it leads to."""
    if "list_at" not in queryset.query.annotations:
        return queryset
    return queryset.filter(**conditions)


def search_condition(value: str | None, *, vendor: str = "postgresql", prefix: str = "") -> Q | None:
    """The free-text search of appeals as one condition (None for an empty text).

    A whole phone number matches the caller by the keyed hash (never by decrypting); four digits
    match the last four of the caller's number (or a text, a source number); several words
    separated by spaces must all match ("夜市 烧烤"), each in the title, address, content or the
    caller's name, or as a tracking code or source number. ``prefix`` reaches the appeal from
    another model ("appeal__" from a work order).
    """
    text = (value or "").strip()[:100]
    if not text:
        return None
    caller = _phone_hash_of(text)
    if caller:
        return Q(**{f"{prefix}citizen_phone_hash": caller}) | Q(**{f"{prefix}external_id": text})
    condition = Q()
    for word in text.split()[:5]:
        condition &= _word_condition(word, vendor=vendor, prefix=prefix)
    return condition


def _phone_hash_of(text: str) -> str | None:
    """The look-up hash when the text is a whole phone number (7 digits and more), else None."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 7 or any(not (ch.isdigit() or ch in " +-－()") for ch in text):
        return None
    return hash_of(text)


def _word_condition(word: str, *, vendor: str, prefix: str) -> Q:
    fields = ("content", "title", "address", "citizen_name")
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{prefix}{field}__icontains": word})
    if vendor == "postgresql" and len(word) >= 2 and not prefix:
        # The GIN index on the character bigrams of title, address, content and the caller's name
        # proposes the rows holding every bigram of the word (2 characters and up; trigrams
        # cannot index a 2-character word); icontains then checks them in the one field.
        condition = Q(terms_contain(bigrams(word))) & condition
    if not word.isascii():
        # Tracking codes, source numbers and phone digits are written in ASCII: a Chinese word is
        # text only, so its condition stays a plain AND of index conditions (see search_window).
        return condition
    if len(word) == 4 and word.isdigit():
        condition |= Q(**{f"{prefix}citizen_phone_last4": word})
    if len(word) <= 12:
        condition |= Q(**{f"{prefix}tracking_code": word.upper()}) | Q(**{f"{prefix}external_id": word})
    return condition


def is_text_search(value: str | None, *, vendor: str = "postgresql") -> bool:
    """Whether the search is words of text only (each of 2+ characters, at least one of them not
    ASCII: Chinese words), which the time-blocked index serves newest first (``search_window``)."""
    text = (value or "").strip()[:100]
    words = text.split()[:5]
    return (
        vendor == "postgresql"
        and bool(words)
        and _phone_hash_of(text) is None
        and all(len(w) >= 2 and not w.isascii() for w in words)
    )


# Must stay the expression of the index appeal_search_terms (migration 0013), columns qualified.
TERMS_SQL = (
    'appeal_search_terms(lower("intake_appeal"."title"::text || \' \' || "intake_appeal"."address"::text'
    ' || \' \' || "intake_appeal"."content" || \' \' || "intake_appeal"."citizen_name"::text),'
    ' "intake_appeal"."received_at")'
)


def bigrams(text: str) -> list[str]:
    text = text.lower()
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def terms_contain(terms: list[str]) -> RawSQL:
    """The row's search terms hold every one of ``terms`` (bigrams, time blocks): an index condition."""
    return RawSQL(f"{TERMS_SQL} @> %s::text[]", (terms,), output_field=BooleanField())


def terms_overlap(terms: list[str]) -> RawSQL:
    """The row's search terms hold one of ``terms`` at least (time blocks): an index condition."""
    return RawSQL(f"{TERMS_SQL} && %s::text[]", (terms,), output_field=BooleanField())


def _day_start(day) -> datetime:
    """The first instant of a local day (TIME_ZONE, Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
