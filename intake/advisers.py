"""What the desk proposes: a plug-in point for the apps that keep the rules behind a proposal.

研判 on the desk and on the appeal page starts from two proposals whose rules live above this app:

* the unit to dispatch to (jurisdiction rules on the address, then category rules), and
* the public reply of an answer-and-close (the category's reply template).

Both are kept by the work-orders app, which registers them from its ``AppConfig.ready``
(``register(unit=…, reply=…)``); this app asks through ``proposed_unit`` and ``proposed_reply``
and never imports it. Nothing registered: nothing is proposed, and staff choose by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_advisers: dict[str, Callable[..., Any] | None] = {"unit": None, "reply": None}


def register(*, unit: Callable[[Any], Any] | None = None, reply: Callable[..., str | None] | None = None) -> None:
    """``unit(appeal) -> Unit | None``; ``reply(appeal, unit_name=…) -> str | None``."""
    if unit is not None:
        _advisers["unit"] = unit
    if reply is not None:
        _advisers["reply"] = reply


def proposed_unit(appeal):
    """The unit the rules propose for an open appeal, or None."""
    adviser = _advisers["unit"]
    if adviser is None or not appeal.is_open:
        return None
    return adviser(appeal)


def proposed_reply(appeal, *, unit_name: str) -> str:
    """The public reply the rules propose (``unit_name`` fills ``{unit}``), or ""."""
    adviser = _advisers["reply"]
    return (adviser(appeal, unit_name=unit_name) or "") if adviser is not None else ""
