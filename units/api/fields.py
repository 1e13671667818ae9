"""Request fields of the API that take the JSON they are given, not what it can be turned into.

DRF's ``CharField`` accepts a number and turns it into text (``{"reason": 42}`` → ``"42"``); the
schema says the field is a string, so such a body is invalid and is refused (400) here. Every
request serializer of the API declares its text fields with ``StrictCharField``; model
serializers that take input derive from ``StrictModelSerializer``, whose text columns map to it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..choice_labels import choice_label


class StrictCharField(serializers.CharField):
    """A ``CharField`` that refuses a number, a boolean, a list or an object (400)."""

    default_error_messages = {"invalid": _("请填写文本。")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ``ModelSerializer`` whose text columns take only JSON strings."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }


class ChoiceLabelField(serializers.CharField):
    """The label of a model's choice field, read-only: ``ChoiceLabelField(source="status")`` gives
    what ``source="get_status_display"`` gave, from a table kept per language (``units.choice_labels``)
    instead of Django rebuilding the choices for every row, and without DRF inspecting the bound
    method's signature per row."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return choice_label(self.parent.Meta.model, self.source, value)
