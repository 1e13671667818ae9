"""The one discovery by name: each installed app's module of a given name (``nav``, ``demo``), in
``INSTALLED_APPS`` order. An app without that module is passed over; an error inside a module that
exists (a missing import of its own) is raised, never mistaken for its absence."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from django.apps import apps


def app_modules(name: str) -> list[ModuleType]:
    """Every installed app's ``<app>.<name>`` module that exists, in ``INSTALLED_APPS`` order."""
    found = []
    for config in apps.get_app_configs():
        dotted = f"{config.name}.{name}"
        try:
            found.append(import_module(dotted))
        except ModuleNotFoundError as exc:
            if exc.name != dotted:
                raise
    return found
