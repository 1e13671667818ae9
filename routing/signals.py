"""Records what each new work order's unit followed, and keeps the monthly hand-back counts.
Receivers rather than calls inside ``workorders.services``: work orders must not depend on this app."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from workorders.choices import Action
from workorders.models import WorkOrder, WorkOrderEvent


@receiver(post_save, sender=WorkOrder, dispatch_uid="routing-record-choice")
def record_choice(sender, instance: WorkOrder, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from .services import record_dispatch_choice

        record_dispatch_choice(instance)


@receiver(post_save, sender=WorkOrder, dispatch_uid="routing-count-dispatch")
def count_dispatch(sender, instance: WorkOrder, created: bool, raw: bool = False, using="default", **kwargs) -> None:
    if created and not raw and instance.dispatched_at is not None:
        from .services import count_dispatch

        count_dispatch(instance, using=using)


@receiver(post_save, sender=WorkOrderEvent, dispatch_uid="routing-count-hand-back")
def count_hand_back(
    sender, instance: WorkOrderEvent, created: bool, raw: bool = False, using="default", **kwargs
) -> None:
    if created and not raw and instance.action == Action.HAND_BACK:
        from .services import count_hand_back

        count_hand_back(instance, using=using)
