"""The one rule for who sees which units' data, and the base views that apply it.

Center staff, supervisors and administrators see every unit; everyone else sees his own unit
and the units below it. Every queryset of unit-owned data derives from ``VisibleQuerySet`` and
every list/detail view or viewset derives from the mixins below, so no view can forget the rule.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connections, models
from django.db.models import Q
from rest_framework import permissions


def unit_scope(user):
    """None when the user sees all units, else the unit whose subtree he sees (or False)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.sees_all_units:
        return None
    return user.unit if user.unit_id else False


def entry_scope(user, using: str = "default"):
    """The unit whose per-unit list rows (``intake.AppealScopeEntry``, ``workorders.ScopeEntry``,
    kept by PostgreSQL triggers) list what ``user`` sees, or None when the lists read the rule on
    the table itself: users who see every unit, users without a unit, SQLite (no triggers)."""
    if connections[using].vendor != "postgresql":
        return None
    return unit_scope(user) or None


def visible_unit_ids(user) -> list[int]:
    """The ids of the user's unit and the units below it, resolved once per user object (rule 12).

    Lists then filter ``unit_id IN (…)``, an index lookup on the row's own column, instead of
    joining the unit table to match its path prefix row by row.
    """
    scope = unit_scope(user)
    if not scope:
        return []
    cached = getattr(user, "_visible_unit_ids", None)
    if cached is not None and cached[0] == scope.path:
        return cached[1]
    from .models import Unit

    ids = list(Unit.objects.below(scope).order_by("pk").values_list("pk", flat=True))
    user._visible_unit_ids = (scope.path, ids)
    return ids


class VisibleQuerySet(models.QuerySet):
    """A queryset of data owned by a unit. ``unit_field`` names the owning unit's relation."""

    unit_field = "unit"

    def visible_to(self, user):
        scope = unit_scope(user)
        if scope is None:
            return self.all()
        if scope is False:
            return self.none()
        return self.seen_from(scope, user)

    def seen_from(self, scope, user):
        """The rows a user whose unit is ``scope`` sees (he sees that unit and those below it)."""
        return self.filter(**{f"{self.unit_field}__in": visible_unit_ids(user)})


class ScopedQuerySet(VisibleQuerySet):
    """Rows seen from several units (an appeal from its lead unit and from the units holding its
    work orders, an order from its lead and assisting units).

    On PostgreSQL the rule is read from the row's stored ``scope_units`` (the ids of every unit
    that sees it, with their ancestors): "visible to station X" is one GIN lookup
    ``scope_units @> [X]`` (rule 12). ``holders_condition(scope)`` is the rule itself, which the
    column mirrors and which SQLite (the demo) evaluates directly; each model writes its own.
    """

    def seen_from(self, scope, user):
        if connections[self.db].vendor == "postgresql":
            return self.filter(scope_units__contains=[scope.pk])
        return self.filter(self.holders_condition(scope))

    def holders_condition(self, scope) -> Q:
        raise NotImplementedError


def _visible(qs, user):
    if not hasattr(qs, "visible_to"):
        raise ImproperlyConfigured(f"{qs.model.__name__} has no visible_to(user) queryset method.")
    return qs.visible_to(user)


class RoleRequiredMixin(LoginRequiredMixin):
    """Staff views: login required, and optionally one of ``allowed_roles``."""

    allowed_roles: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.allowed_roles and not request.user.has_role(*self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class VisibleMixin(RoleRequiredMixin):
    """For ListView/DetailView/UpdateView: the queryset is always restricted to the user."""

    def get_queryset(self):
        return _visible(super().get_queryset(), self.request.user)


class HasRole(permissions.BasePermission):
    """DRF permission: the view's ``allowed_roles`` (empty means any authenticated user)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles = getattr(view, "allowed_roles", ())
        return not roles or user.has_role(*roles)


class VisibleViewSetMixin:
    """For DRF viewsets: restricts the queryset, so an unseen item answers 404."""

    allowed_roles: tuple[str, ...] = ()
    permission_classes = [HasRole]

    def get_queryset(self):
        return _visible(super().get_queryset(), self.request.user)
