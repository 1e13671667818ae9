"""Keyset pagination for every API list: page 1 and page 1,000 cost the same (no COUNT, no OFFSET)."""

from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    """Cursor over the view's ``cursor_ordering`` (default newest first by id)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", self.ordering)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
