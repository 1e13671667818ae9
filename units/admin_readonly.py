"""Admin pages for rows that are evidence or that only services write: shown, never added,
changed or deleted from the admin, whatever the user's rights (not even a superuser's).

Audit rows (the reveal log, lockouts, every timeline) and records another system posted are
changed by their services only; the admin answers no to every write permission for them.
"""

from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdminMixin:
    """Every write permission answers no (for a model admin and for an inline alike)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A timeline or other evidence listed under its object."""

    extra = 0
    can_delete = False
