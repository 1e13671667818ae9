"""Context of the feeds app's panels (home page and appeal page)."""

from __future__ import annotations

from . import permissions
from .choices import DeliveryStatus
from .selectors import deliveries_of_appeal, delivery_counts, import_batches


def home_panel(request) -> dict:
    counts = delivery_counts()
    return {
        "batches": list(import_batches(request.user)[:5]),
        "pending": counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0),
        "problems": counts.get(DeliveryStatus.FAILED, 0) + counts.get(DeliveryStatus.PARKED, 0),
        "delivered": counts.get(DeliveryStatus.DELIVERED, 0),
    }


def appeal_panel(request, appeal) -> dict:
    """The results sent back to the platform this appeal came from (empty for other channels)."""
    return {
        "deliveries": list(deliveries_of_appeal(appeal)),
        "appeal": appeal,
        "can_open": permissions.may_read_deliveries(request.user),
    }
