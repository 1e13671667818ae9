"""The filter backend of every API list."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import filters, utils, widgets
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


class StrictBooleanWidget(widgets.BooleanWidget):
    """true/false/1/0 (any case) become True/False; any other value is handed on as given, so that
    the field can refuse it (django-filter's widgets turn it into "no filter")."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, str) and value.lower() in _BOOLEANS:
            return _BOOLEANS[value.lower()]
        return value


class StrictBooleanField(forms.NullBooleanField):
    """Absent: no filter; True/False from the widget; anything else (also "") is invalid (400)."""

    default_error_messages = {"invalid": _("请填写 true 或 false。")}

    def to_python(self, value):
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value):
        pass


class FilterBackend(DjangoFilterBackend):
    """django-filter, except that naming an object that does not exist matches nothing.

    ``?unit=0`` is a well-formed question ("the appeals of unit 0") whose answer is an empty list;
    refusing it with 400 would call a valid request invalid. A malformed value (``?unit=abc``, a
    status outside its choices, a bad date) is still a 400.

    Every boolean filter is strict here (``?is_overdue=maybe`` is a 400, not "no filter"): the
    schema says boolean, and the filter sets are shared with the HTML pages, whose select boxes
    keep django-filter's lenient widget.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for declared in filterset.filters.values():  # the instance's own deep copies
                if isinstance(declared, filters.BooleanFilter):
                    declared.field_class = StrictBooleanField
                    declared.extra["widget"] = StrictBooleanWidget
        return filterset

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        self._refuse_empty_values(filterset, request)
        if not filterset.is_valid():
            if self._only_unknown_objects(filterset):
                return queryset.none()
            raise utils.translate_validation(filterset.errors)
        return filterset.qs

    @staticmethod
    def _refuse_empty_values(filterset, request) -> None:
        """``?unit=`` or ``?created_from=`` is no id and no date: a 400, as the schema's type says
        (django-filter would read it as "no filter"). An empty text filter is still a text."""
        errors = {
            name: [_("请填写一个值，或去掉该参数。")]
            for name, declared in filterset.filters.items()
            if not isinstance(declared, filters.CharFilter)
            and name in request.query_params
            and request.query_params.get(name) == ""
        }
        if errors:
            raise ValidationError(errors)

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
