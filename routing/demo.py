"""Demo data of the routing app: the monthly hand-back figures of the demo's work orders.

The other apps' demo loaders write and backdate orders without every model signal, so the months
are recounted from the orders once, as after a restore. Idempotent."""

from __future__ import annotations

from . import services


def load(stdout=None) -> None:
    months = services.rebuild_handback_months()
    if stdout:
        stdout.write(f"routing: hand-back figures of {months} months")
