"""Paging of long staff lists (ARCHITECTURE rule 7)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Lists of service records, SMS and callbacks grow by millions: their pages count at most this many
# rows (a LIMITed subquery) and offer no page beyond; filters narrow the rest.
LIST_COUNT_CAP = 5000


class BoundedPaginator(Paginator):
    """A paginator whose count stops at ``LIST_COUNT_CAP + 1``: never an unbounded COUNT(*)."""

    cap = LIST_COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap
