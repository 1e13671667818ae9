"""我的视图: a user's named filter sets of a list, shown as tabs on that list.

The URL stays the source of truth: a saved view is only a name for a query string. What is stored
is sanitised against the list it belongs to — only that list's own filter parameters (its
FilterSet's, plus its tab) are kept, each value trimmed and bounded; paging (``cursor``, ``after``,
``page``, ``before``), the open side panel and anything unknown are dropped, so a saved view always
opens the first page of the same filtered list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .choices import SavedList
from .models import SavedView, User

MAX_VIEWS_PER_LIST = 20
MAX_VALUES_PER_PARAM = 20
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class ListSpec:
    """A list views can be saved for: its page, the FilterSet whose parameters it takes, and the
    parameters it reads besides (a tab)."""

    url_name: str
    filterset: str
    extra: tuple[str, ...] = ()

    @property
    def params(self) -> tuple[str, ...]:
        return _params(self)


LISTS: dict[str, ListSpec] = {
    SavedList.DESK: ListSpec("intake:desk", "intake.filters.AppealFilter", ("status",)),
    SavedList.WORKSPACE: ListSpec("workorders:workspace", "workorders.filters.WorkOrderFilter", ("tab",)),
    SavedList.CALLBACKS: ListSpec("surveys:callback_desk", "surveys.filters.CallbackFilter"),
    SavedList.DELIVERIES: ListSpec("feeds:deliveries", "feeds.filters.ResultDeliveryFilter"),
    SavedList.RATINGS: ListSpec("surveys:rating_list", "surveys.filters.RatingFilter"),
    SavedList.RECORDS: ListSpec("surveys:record_list", "surveys.filters.ServiceRecordFilter"),
    SavedList.SMS: ListSpec("sms:outbox", "sms.filters.OutboundSmsFilter"),
    SavedList.RATING_POINTS: ListSpec("surveys:rating_point_list", "surveys.filters.RatingPointFilter"),
}


@cache
def _params(spec: ListSpec) -> tuple[str, ...]:
    names = list(import_string(spec.filterset).base_filters)
    return tuple(dict.fromkeys([*names, *spec.extra]))


def sanitise(list_name: str, query: str | QueryDict) -> str:
    """``query`` reduced to the list's known filter parameters, in a fixed order, empty values
    dropped, each value at most ``MAX_VALUE_CHARS`` characters and ``MAX_VALUES_PER_PARAM`` values."""
    spec = LISTS[list_name]
    given = query if isinstance(query, QueryDict) else QueryDict(query[:4000])
    kept = QueryDict(mutable=True)
    for name in spec.params:
        values = [v.strip()[:MAX_VALUE_CHARS] for v in given.getlist(name) if v and v.strip()]
        if values:
            kept.setlist(name, list(dict.fromkeys(values))[:MAX_VALUES_PER_PARAM])
    return kept.urlencode()


def url_of(view: SavedView) -> str:
    base = reverse(LISTS[view.list_name].url_name)
    return f"{base}?{view.query}" if view.query else base


def views_for(user, list_name: str) -> list[SavedView]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(SavedView.objects.filter(user=user, list_name=list_name).order_by("id"))


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": [_("请填写视图名称。")]})
    if len(name) > 30:
        raise ValidationError({"name": [_("视图名称最多30个字。")]})
    return name


def save_view(*, user: User, list_name: str, name: str, query: str, replace: bool = False) -> tuple[SavedView, bool]:
    """Save the list's current filters under ``name`` for ``user``; returns (view, created).

    The same name again updates that view's filters when ``replace`` (the list's "保存" button),
    else it is refused (the API, where a name is an identity). At most ``MAX_VIEWS_PER_LIST`` views
    per list and user.
    """
    if list_name not in LISTS:
        raise ValidationError({"list_name": [_("未知的列表。")]})
    name = _clean_name(name)
    query = sanitise(list_name, query)
    with transaction.atomic():
        mine = SavedView.objects.select_for_update().filter(user=user, list_name=list_name)
        existing = mine.filter(name=name).first()
        if existing is not None:
            if not replace:
                raise ValidationError({"name": [_("已有同名视图，请换一个名称。")]})
            existing.query = query
            existing.save(update_fields=["query"])
            return existing, False
        if mine.count() >= MAX_VIEWS_PER_LIST:
            raise ValidationError(
                {"name": [_("每个列表最多保存%(n)d个视图，请先删除不用的。") % {"n": MAX_VIEWS_PER_LIST}]}
            )
        try:
            with transaction.atomic():
                view = SavedView.objects.create(user=user, list_name=list_name, name=name, query=query)
        except IntegrityError as exc:  # the same name saved at the same moment in another tab
            raise ValidationError({"name": [_("已有同名视图，请换一个名称。")]}) from exc
        return view, True


def update_view(view: SavedView, *, name: str | None = None, query: str | None = None) -> SavedView:
    """Rename a view and/or give it other filters (sanitised against its list)."""
    fields = []
    if name is not None:
        name = _clean_name(name)
        if name != view.name:
            if SavedView.objects.filter(user=view.user_id, list_name=view.list_name, name=name).exists():
                raise ValidationError({"name": [_("已有同名视图，请换一个名称。")]})
            view.name = name
            fields.append("name")
    if query is not None:
        view.query = sanitise(view.list_name, query)
        fields.append("query")
    if fields:
        try:
            with transaction.atomic():
                view.save(update_fields=fields)
        except IntegrityError as exc:
            raise ValidationError({"name": [_("已有同名视图，请换一个名称。")]}) from exc
    return view


def delete_view(view: SavedView) -> None:
    view.delete()
