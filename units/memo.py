"""Small tables read on every write, kept in each process: step-notice switches, SMS templates,
feed sources by key, categories, risk words.

A ``ProcessCache`` holds what its ``load`` function read (a whole small table, shaped for look-up)
and reads it again:

* at once in this process when one of its models is saved or deleted (``watch`` connects the
  model signals): the next read after the change, and once more after the commit;
* at most ``MAX_AGE_SECONDS`` later in every other process (whose signals never fire here), so a
  switch an administrator turns off takes effect on every web and Celery worker within seconds;
* after ``migrate`` or ``flush`` (``post_migrate``): the rows may have been rewritten wholesale.

While the transaction that changed a watched row is open, reads in it go to the database and are
not kept: a rollback sends no signal, so nothing read from an uncommitted change may outlive it.

Nothing is shared between processes and nothing goes through Redis: a read costs a dictionary
look-up, not a round trip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

T = TypeVar("T")

# How long another process may go on using what it read before a change (seconds).
MAX_AGE_SECONDS = 5.0

_all: list[ProcessCache] = []


def _clock() -> float:
    return time.monotonic()


class ProcessCache(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T], *, max_age: float | None = None):
        self.name = name
        self._load = load
        self._max_age = max_age
        self._value: T | None = None
        self._loaded = float("-inf")
        self._dirty_in = None  # the outermost atomic block of the transaction that changed a row
        self._lock = threading.Lock()
        _all.append(self)

    @property
    def max_age(self) -> float:
        return MAX_AGE_SECONDS if self._max_age is None else self._max_age

    def get(self) -> T:
        if self._dirty_in is not None:
            blocks = connections[DEFAULT_DB_ALIAS].atomic_blocks
            if blocks and blocks[0] is self._dirty_in:
                return self._load()  # this transaction changed the rows: read them, keep nothing
            self._dirty_in = None  # that transaction is over (committed or rolled back)
            self.clear()
        now = _clock()
        with self._lock:
            if self._value is None or now - self._loaded > self.max_age:
                self._value = self._load()
                self._loaded = now
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None
            self._loaded = float("-inf")

    def changed(self, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
        """A watched row was saved or deleted in this process."""
        self.clear()
        connection = connections[using]
        if connection.in_atomic_block and connection.atomic_blocks:
            self._dirty_in = connection.atomic_blocks[0]
            transaction.on_commit(self.clear, using=using)

    def watch(self, *models) -> ProcessCache[T]:
        for model in models:
            uid = f"memo-{self.name}-{model._meta.label_lower}"
            post_save.connect(self._on_signal, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(self._on_signal, sender=model, weak=False, dispatch_uid=uid)
        return self

    def _on_signal(self, sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
        self.changed(using=using)


def clear_all(**kwargs) -> None:
    for cache in _all:
        cache._dirty_in = None
        cache.clear()


post_migrate.connect(clear_all, weak=False, dispatch_uid="units-memo-clear-all")
