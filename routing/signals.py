"""Records what each new work order's unit followed. A receiver rather than a call inside
``workorders.services.dispatch_appeal``: work orders must not depend on this app."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from workorders.models import WorkOrder


@receiver(post_save, sender=WorkOrder, dispatch_uid="routing-record-choice")
def record_choice(sender, instance: WorkOrder, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from .services import record_dispatch_choice

        record_dispatch_choice(instance)
