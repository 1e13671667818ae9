"""The "place" of an appeal: a normalised key from its free-text address.

Addresses arrive in every form ("临江市滨江区滨江路88号3栋", "滨江路88号旁边", "江南小区东门").
The key keeps the first road or community named in the address, which is how the bureau's staff
speak of a place ("滨江路那边"): city and district prefixes are dropped, then the text is cut after
the first road/community marker (路、街、大道、巷、弄、小区、社区、村、广场…). An address without
any marker keeps its first 8 characters. Pure function, tested.
"""

from __future__ import annotations

import re

from intake.similarity import normalise

_PREFIX = re.compile(r"^(?:[^市]{1,6}市)?(?:[^区县]{1,6}(?<![小社园])(?:区|县))?")
_MARKER = re.compile(r"^(.{1,12}?(?:大道|大街|小区|社区|广场|公园|市场|路|街|巷|弄|村|镇|乡))")
FALLBACK_CHARS = 8


def place_key(address: str) -> str:
    """The normalised place of an address ("" when the address says nothing)."""
    clean = normalise(address)
    if not clean:
        return ""
    rest = _PREFIX.sub("", clean, count=1) or clean
    found = _MARKER.match(rest)
    return found.group(1) if found else rest[:FALLBACK_CHARS]
