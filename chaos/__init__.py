"""Fault scenarios with real processes (``make chaos``); not part of ``make test``."""
