"""Reads of the work-order app: queues, tabs, counts, the review list, the listed orders."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.models import User
from units.navigation import bounded_counts
from units.visibility import entry_scope

from .choices import WITH_UNIT, ExtensionState, UrgeStage, WorkOrderStatus
from .models import CalendarDay, WorkOrder
from .workdays import known_years

S = WorkOrderStatus

# Workspace tabs: key, label, filter (of the time and of the name the deadline is read by: the
# order's ``due_at``, or the ``list_at`` copy on a unit's entry). "Due soon" = the 80 % reminder
# has gone and the deadline not yet.
TABS = [
    ("to_sign", _("待签收"), lambda now, due: Q(status=S.DISPATCHED)),
    ("in_progress", _("办理中"), lambda now, due: Q(status__in=[S.SIGNED, S.IN_PROGRESS])),
    (
        "due_soon",
        _("即将到期"),
        lambda now, due: Q(
            status__in=WITH_UNIT, is_overdue=False, urge_stage__gte=UrgeStage.EIGHTY, **{f"{due}__gt": now}
        ),
    ),
    ("overdue", _("已超期"), lambda now, due: Q(status__in=WITH_UNIT, is_overdue=True)),
    ("returned", _("退回重办"), lambda now, due: Q(status=S.RETURNED)),
    ("review", _("待审核"), lambda now, due: Q(status=S.FEEDBACK_SUBMITTED)),
    ("closed", _("已办结"), lambda now, due: Q(status=S.CLOSED)),
    ("handed_back", _("已退单"), lambda now, due: Q(status=S.HANDED_BACK)),
    ("all", _("全部"), lambda now, due: Q()),
]
TAB_KEYS = [t[0] for t in TABS]
# Tabs whose counts stay small (open orders, a partial index); "closed" and "all" grow forever
# and are not counted.
COUNTED_TABS = frozenset(TAB_KEYS) - {"closed", "handed_back", "all"}
# Keyset orderings: the first field is a timestamp never null in that tab, the second the id.
DEFAULT_ORDERING = ("due_at", "id")
TAB_ORDERING = {
    "closed": ("-closed_at", "-id"),
    "handed_back": ("-updated_at", "-id"),
    "all": ("-dispatched_at", "-id"),
}


# The tabs that grow forever, read for a unit user from ``ScopeEntry`` (PostgreSQL): the entry's
# copy of the tab's sort timestamp, the entry's status condition. Their btree indexes lead with the
# unit, then the timestamp, so a page reads a page of the unit's rows; through the GIN index of
# ``scope_units`` a station's tab read and sorted the station's whole history.
ENTRY_TABS = {
    "closed": ("closed_at", Q(scope_entries__status=S.CLOSED)),
    "handed_back": ("updated_at", Q(scope_entries__status=S.HANDED_BACK)),
    "all": ("dispatched_at", Q()),
}
# The order of those lists: ``list_at`` is the entry's timestamp (the same value as the order's).
ENTRY_ORDERING = ("-list_at", "-id")
# The counted tabs' statuses, also read for a unit user from ``ScopeEntry`` (its index
# ``scope_open_tab`` on unit, status and deadline): the statistics of plain columns estimate how
# many a unit has, where the GIN of ``scope_units`` gets a fixed guess and the planner may walk
# every unit's orders of the status instead (a station's 待审核 reading the province's review
# queue). Their order is the entry's copy of the deadline, which no index of every unit's serves.
OPEN_ENTRY_ORDERING = ("list_at", "id")
OPEN_TAB_STATUSES = {
    "to_sign": (S.DISPATCHED,),
    "in_progress": (S.SIGNED, S.IN_PROGRESS),
    "due_soon": tuple(sorted(WITH_UNIT)),
    "overdue": tuple(sorted(WITH_UNIT)),
    "returned": (S.RETURNED,),
    "review": (S.FEEDBACK_SUBMITTED,),
}


def seen_in_order(user: User, sort_field: str, condition: Q | None = None) -> QuerySet[WorkOrder] | None:
    """The orders ``user`` sees, read from his unit's ``ScopeEntry`` rows (``condition`` on them,
    e.g. their status) and annotated ``list_at`` (the entry's ``sort_field``), to be ordered by
    ``ENTRY_ORDERING``; None when ``entry_scope`` is None. The same orders as
    ``WorkOrder.objects.visible_to(user)``: the entries are the elements of ``scope_units``."""
    scope = entry_scope(user)
    if scope is None:
        return None
    # One filter() call, so the entry's unit and status are conditions on one join, which the
    # annotation and the keyset conditions on ``list_at`` reuse.
    return WorkOrder.objects.filter(Q(scope_entries__unit=scope.pk) & (condition or Q())).annotate(
        list_at=F(f"scope_entries__{sort_field}")
    )


def in_tab(user: User, tab: str, *, now=None) -> QuerySet[WorkOrder]:
    """The orders of ``tab`` the user sees (a unit user's through his unit's ``ScopeEntry`` rows on
    PostgreSQL), unordered and without related rows: what the tab lists and counts."""
    if tab in ENTRY_TABS:
        field, on_entry = ENTRY_TABS[tab]
    elif tab in OPEN_TAB_STATUSES:
        field, on_entry = "due_at", Q(scope_entries__status__in=OPEN_TAB_STATUSES[tab])
    else:
        field = None
    seen = seen_in_order(user, field, on_entry) if field else None
    if seen is None:
        return WorkOrder.objects.visible_to(user).filter(tab_filter(tab, now=now))
    # The deadline read on the entry (an open tab's ``list_at``): a condition on the order's own
    # would let the planner start from every unit's orders not yet due (``workorder_due``).
    return seen.filter(tab_filter(tab, now=now, due="list_at" if field == "due_at" else "due_at"))


def tab_orders(user: User, tab: str, *, now=None) -> tuple[QuerySet[WorkOrder], tuple[str, str]]:
    """The orders of ``tab`` the user sees, with what lists show, and the tab's keyset ordering."""
    qs = in_tab(user, tab, now=now).select_related("unit", "appeal", "appeal__category", "handler")
    return qs.prefetch_related("assisting_units"), workspace_ordering(user, tab)


def cursor_of(order: WorkOrder, ordering: tuple[str, str]) -> str:
    value = getattr(order, ordering[0].lstrip("-"))
    return f"{value.isoformat()}|{order.pk}"


def after_cursor(qs: QuerySet[WorkOrder], ordering: tuple[str, str], cursor: str) -> QuerySet[WorkOrder]:
    """Rows after ``cursor`` in ``ordering``; a malformed cursor starts from the top."""
    if not cursor or "|" not in cursor:
        return qs
    raw_value, raw_pk = cursor.rsplit("|", 1)
    try:
        value = datetime.fromisoformat(raw_value)
        pk = int(raw_pk)
    except ValueError:
        return qs
    field = ordering[0].lstrip("-")
    op = "lt" if ordering[0].startswith("-") else "gt"
    # The first condition alone is an index range that starts at the cursor; the OR alone would be
    # a filter over every row before it (page 100 reading 5,000 rows).
    return qs.filter(
        Q(**{f"{field}__{op}e": value}), Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk})
    )


def orders_for(user: User) -> QuerySet[WorkOrder]:
    """Every order the user may see, with what lists show."""
    return (
        WorkOrder.objects.visible_to(user)
        .select_related("unit", "appeal", "appeal__category", "handler")
        .prefetch_related("assisting_units")
    )


def list_rows(qs: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """``qs`` with what a list row shows (the order, its unit, its appeal's title and text) and no
    more: not the caller's number (a decryption per row), the handler, the appeal's category or
    the assisting units (a second statement), which the order page and the export read."""
    return (
        qs.select_related(None).select_related("unit", "appeal").prefetch_related(None).defer("appeal__citizen_phone")
    )


def tab_filter(tab: str, *, now=None, due: str = "due_at") -> Q:
    now = now or timezone.now()
    for key, _label, q in TABS:
        if key == tab:
            return q(now, due)
    return Q()


# Tab counts stop at this many and show "1000+": a count reads at most COUNT_CAP + 1 index
# entries of open orders, whatever the history holds (rule 7).
COUNT_CAP = 1000


def bounded_count(qs: QuerySet, *, cap: int | None = None) -> int:
    """Rows of ``qs`` counted up to ``cap + 1`` (a LIMITed subquery); above ``cap`` means "more"."""
    return qs.order_by()[: (cap or COUNT_CAP) + 1].count()


def count_label(n: int | None, *, cap: int | None = None) -> str:
    if n is None:
        return ""
    cap = cap or COUNT_CAP
    return f"{cap}+" if n > cap else str(n)


def workspace_tabs(user: User, *, now=None) -> list[dict]:
    """Tabs with their counts: one bounded count per open tab ("closed", "all" are not counted),
    all in one statement (``units.navigation.bounded_counts``)."""
    now = now or timezone.now()
    counted = {key: in_tab(user, key, now=now) for key in TAB_KEYS if key in COUNTED_TABS}
    counts = bounded_counts(counted, limit=COUNT_CAP + 1)
    return [
        {"key": key, "label": label, "count": counts.get(key), "count_label": count_label(counts.get(key))}
        for key, label, _q in TABS
    ]


# The review page's three queues, each in the order of its partial index (keyset pages).
REVIEW_ORDER = ("feedback_at", "id")
EXTENSION_ORDER = ("due_at", "id")
APPROVED_ORDER = ("updated_at", "id")


def review_queue(user: User) -> QuerySet[WorkOrder]:
    """Feedback waiting for the center's review, oldest first."""
    return orders_for(user).filter(status=S.FEEDBACK_SUBMITTED).order_by(*REVIEW_ORDER)


def extension_queue(user: User) -> QuerySet[WorkOrder]:
    return (
        orders_for(user)
        .filter(extension_state=ExtensionState.REQUESTED, status__in=WITH_UNIT)
        .order_by(*EXTENSION_ORDER)
    )


def approved_queue(user: User) -> QuerySet[WorkOrder]:
    return orders_for(user).filter(status=S.APPROVED).order_by(*APPROVED_ORDER)


def keyset_page(qs: QuerySet[WorkOrder], ordering: tuple[str, str], cursor: str, *, size: int):
    """One page of ``qs`` after ``cursor`` in ``ordering`` and the cursor of the next page ("" at the
    end): ``size + 1`` rows read from the ordering's index, whatever the queue holds (rule 7)."""
    rows = list(after_cursor(qs, ordering, cursor).order_by(*ordering)[: size + 1])
    return rows[:size], cursor_of(rows[size - 1], ordering) if len(rows) > size else ""


def listed_orders(user: User) -> QuerySet[WorkOrder]:
    return orders_for(user).filter(is_listed=True).order_by("-listed_at", "-id")


def unit_panel(request) -> dict:
    """Home panel of unit users: counts per tab."""
    return {"tabs": [t for t in workspace_tabs(request.user) if t["key"] in COUNTED_TABS]}


def center_panel(request) -> dict:
    user = request.user
    now = timezone.now()
    qs = WorkOrder.objects.visible_to(user)
    return {
        "review": bounded_count(qs.filter(status=S.FEEDBACK_SUBMITTED)),
        "extensions": bounded_count(qs.filter(extension_state=ExtensionState.REQUESTED, status__in=WITH_UNIT)),
        "approved": bounded_count(qs.filter(status=S.APPROVED)),
        "overdue": bounded_count(qs.filter(status__in=WITH_UNIT, is_overdue=True)),
        "handed_back": bounded_count(qs.filter(status=S.HANDED_BACK, updated_at__gte=now - timedelta(days=7))),
    }


def supervisor_panel(request) -> dict:
    qs = WorkOrder.objects.all()
    return {
        "listed": bounded_count(qs.filter(is_listed=True).exclude(status__in=[S.CLOSED, S.HANDED_BACK])),
        "overdue": bounded_count(qs.filter(status__in=WITH_UNIT, is_overdue=True)),
        "recent_listed": list(qs.filter(is_listed=True).select_related("unit", "appeal").order_by("-listed_at")[:5]),
    }


def calendar_status(today: date | None = None) -> dict:
    today = today or timezone.localdate()
    years = sorted(known_years())
    return {"years": years, "next_year_missing": today.year + 1 not in years, "next_year": today.year + 1}


def admin_panel(request) -> dict:
    return calendar_status()


def special_days(year: int) -> QuerySet[CalendarDay]:
    """Holidays and make-up working days of a year (ordinary weekdays and weekends left out)."""
    return CalendarDay.objects.filter(date__year=year).filter(
        Q(is_workday=False, date__week_day__in=[2, 3, 4, 5, 6])
        | Q(is_workday=True, date__week_day__in=[1, 7])
        | ~Q(name="")
    )


def appeal_panel(request, appeal) -> dict:
    """The work-order panel on the appeal page: its orders and, for the center, the dispatch form."""
    from .forms import DispatchForm
    from .permissions import may_dispatch
    from .services import propose_unit

    user = request.user
    orders = list(orders_for(user).filter(appeal=appeal).order_by("dispatched_at"))
    has_open = any(o.is_open for o in orders)
    can_dispatch = may_dispatch(user) and appeal.status not in ("closed", "merged") and not has_open
    ctx = {"appeal": appeal, "orders": orders, "can_dispatch": can_dispatch}
    if ctx["can_dispatch"]:
        # A unit chosen at triage wins over the rules' proposal.
        chosen = getattr(appeal, "proposed_unit", None)
        proposed = chosen or propose_unit(appeal)
        ctx["proposed"] = proposed
        ctx["proposed_at_triage"] = chosen is not None
        ctx["form"] = DispatchForm(initial={"unit": proposed.pk if proposed else None})
    return ctx


def workspace_orders(user: User, params) -> tuple[str, object, QuerySet]:
    """The unit workspace's (tab, filterset, ordered rows) for ``user`` and the query ``params``:
    the tab (default per role), visibility, the tab's condition, ``WorkOrderFilter`` (ignored
    when invalid) and the tab's order. The list pages it; the export streams it."""
    from .filters import WorkOrderFilter

    tab = params.get("tab") or ("review" if user.is_center else "to_sign")
    if tab not in TAB_KEYS:
        tab = "all"
    base, ordering = tab_orders(user, tab)
    filterset = WorkOrderFilter(params or None, queryset=base)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    return tab, filterset, qs.order_by(*ordering)


def workspace_ordering(user: User, tab: str) -> tuple[str, str]:
    """The keyset ordering ``workspace_orders`` gives ``tab`` for ``user`` (its cursors' fields)."""
    if entry_scope(user) is not None:
        if tab in ENTRY_TABS:
            return ENTRY_ORDERING
        if tab in OPEN_TAB_STATUSES:
            return OPEN_ENTRY_ORDERING
    return TAB_ORDERING.get(tab, DEFAULT_ORDERING)
