"""Audit rows are written once: the reveal log, the timelines of appeals, work orders, callbacks,
surveys and rankings.

``AppendOnly`` makes ``save()`` of a row already in the database and ``delete()`` of any row raise
``PermissionError``, so no view, admin page, API action or service can change a record through the
ORM by mistake. Deleting the parent (a test database, an appeal never revealed) still removes its
timeline at the SQL level, and demo loaders back-date rows with ``QuerySet.update``: the guard is
about the application's objects, not about a DBA.
"""

from __future__ import annotations


class AppendOnly:
    """Mixin for models whose rows are evidence: insert only."""

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are never deleted")
