"""The filter backend of every API list."""

from __future__ import annotations

from django import forms
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """django-filter, except that naming an object that does not exist matches nothing.

    ``?unit=0`` is a well-formed question ("the appeals of unit 0") whose answer is an empty list;
    refusing it with 400 would call a valid request invalid. A malformed value (``?unit=abc``, a
    status outside its choices, a bad date) is still a 400.
    """

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            if self._only_unknown_objects(filterset):
                return queryset.none()
            raise utils.translate_validation(filterset.errors)
        return filterset.qs

    @staticmethod
    def _only_unknown_objects(filterset) -> bool:
        form = filterset.form
        errors = form.errors.as_data()
        if not errors:
            return False
        for name, field_errors in errors.items():
            field = form.fields.get(name)
            if not isinstance(field, forms.ModelChoiceField):  # ModelMultipleChoiceField included
                return False
            if any(error.code not in ("invalid_choice", "invalid_pk_value") for error in field_errors):
                return False
            if not all(str(value).lstrip("-").isdigit() or not _is_pk_integer(field) for value in _values(form, name)):
                return False
        return True


def _values(form, name) -> list:
    data = form.data
    return data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]


def _is_pk_integer(field) -> bool:
    from django.db import models

    target = field.queryset.model._meta.pk
    if field.to_field_name:
        target = field.queryset.model._meta.get_field(field.to_field_name)
    return isinstance(target, (models.AutoField, models.BigAutoField, models.IntegerField))
