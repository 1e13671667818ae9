"""The one transition helper of every state machine (appeals, work orders, rankings, alerts …).

A state machine is a ``TextChoices`` status, a table of allowed moves and calls to ``transition``,
which does the steps every move needs, in this order:

1. lock the object's row (``SELECT … FOR UPDATE`` of that row only) and re-read it: another
   request may have moved it meanwhile;
2. check the permission (``may``) on the locked row, else ``PermissionDenied`` (403);
3. return without writing anything when the object is already where the move leads (``already``;
   by default: the status equals ``to``): a move made twice has one effect;
4. refuse with ``units.errors.Refused`` (409) when the status is not one the move starts from
   (``sources``), and run the app's own extra checks (``guard``, raising ``Refused`` too);
5. apply the move: ``apply`` changes the row's other fields and may return details for the
   timeline; the status becomes ``to`` (``None``: it stays, e.g. an extension request); save;
6. write the timeline row (the object's ``events``, a ``units.models.TimelineEvent``) in the same
   transaction: actor, action, from and to status, note, details;
7. ``after`` runs with the row still locked (notifications, follow-up rows).

The caller's instance is brought up to date with what was saved, and returned.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _

from .errors import Refused

M = TypeVar("M", bound=models.Model)


def record(
    obj: models.Model,
    *,
    action: str,
    actor=None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict | None = None,
    events: str = "events",
):
    """Write one timeline row of ``obj`` (through its ``events`` relation); an anonymous or
    missing actor is stored as nobody."""
    return getattr(obj, events).create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=from_status or "",
        to_status=to_status or "",
        note=note or "",
        data=data or {},
    )


def refresh(target: M, source: M) -> None:
    """Copy the stored columns of ``source`` onto ``target`` (the caller's instance), so it sees
    what was saved; a changed foreign key drops its cached object."""
    if target is source:
        return
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def transition(
    obj: M,
    *,
    action: str,
    actor=None,
    to: str | None = None,
    sources: Collection[str] | None = None,
    may: Callable[[M], bool] | None = None,
    denied: str | None = None,
    already: Callable[[M], bool] | None = None,
    refuse: Callable[[M], Refused] | None = None,
    guard: Callable[[M], None] | None = None,
    apply: Callable[[M], dict | None] | None = None,
    after: Callable[[M], None] | None = None,
    note: str = "",
    data: dict | None = None,
    status_field: str = "status",
    related: Sequence[str] = (),
    update_fields: Sequence[str] | None = None,
    write_event: Callable[[M, str], Any] | None = None,
) -> M:
    """Make one move of ``obj`` (steps in the module docstring); returns ``obj``, up to date.

    ``sources``: the statuses the move starts from (``None``: any). ``refuse`` builds the refusal
    for a wrong status (default: a generic sentence). ``related``: foreign keys read (not locked)
    with the row. ``update_fields``: save only these columns (the status is added). ``write_event``
    replaces step 6 for a timeline whose columns are not a ``TimelineEvent`` (it gets the locked
    row and the status before the move).
    """
    model = type(obj)
    with transaction.atomic():
        locked = model._default_manager.select_for_update(of=("self",)).select_related(*related).get(pk=obj.pk)
        if may is not None and not may(locked):
            raise PermissionDenied(denied or _("您无权执行该操作。"))
        is_there = already(locked) if already else (to is not None and getattr(locked, status_field) == to)
        if is_there:
            refresh(obj, locked)
            return obj
        before = getattr(locked, status_field)
        if sources is not None and before not in sources:
            raise refuse(locked) if refuse else Refused(_("当前状态不允许此操作。"))
        if guard is not None:
            guard(locked)
        details = apply(locked) if apply else None
        if to is not None:
            setattr(locked, status_field, to)
        if update_fields is None:
            locked.save()
        else:
            locked.save(update_fields=list({status_field, *update_fields}))
        if write_event is not None:
            write_event(locked, before)
        else:
            record(
                locked,
                action=action,
                actor=actor,
                from_status=before,
                to_status=getattr(locked, status_field),
                note=note,
                data={**(data or {}), **(details or {})},
            )
        if after is not None:
            after(locked)
    refresh(obj, locked)
    return obj


def sources_of(moves: Mapping[str, Collection[str]], to: str) -> set[str]:
    """The statuses of a table of moves (each status → the statuses it may move to) from which a
    move leads to ``to``."""
    return {status for status, targets in moves.items() if to in targets}


def move_by_table(
    obj: M,
    moves: Mapping[str, Collection[str]],
    *,
    to: str,
    action: str,
    actor=None,
    refusal: str,
    note: str = "",
    **changes: Any,
) -> M:
    """One move of ``obj`` allowed by ``moves``, setting ``changes`` on the locked row. A move
    that stays where it is (a status that may lead to itself) is still a move with its own timeline
    row, never a no-op. A status the table does not lead from is refused with ``refusal``, a
    sentence with ``%(s)s`` for the label of the row's status."""

    def apply(locked: M) -> None:
        for name, value in changes.items():
            setattr(locked, name, value)

    return transition(
        obj,
        action=action,
        actor=actor,
        to=to,
        sources=sources_of(moves, to),
        already=lambda locked: False,
        refuse=lambda locked: Refused(refusal % {"s": locked.get_status_display()}),
        apply=apply,
        note=note,
    )
