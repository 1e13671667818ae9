"""Celery tasks of the feeds app: thin, by id; the database rows are the truth."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def run_import_batch_task(batch_id: int) -> str:
    from .services import run_import_batch

    batch = run_import_batch(batch_id)
    return batch.status if batch else "skipped"


@shared_task(acks_late=True)
def send_result_delivery_task(delivery_id: int) -> str:
    from .services import send_result_delivery

    delivery = send_result_delivery(delivery_id)
    return delivery.status if delivery else "skipped"


@shared_task
def sweep_import_batches_task() -> int:
    from .services import sweep_import_batches

    return sweep_import_batches()


@shared_task
def sweep_result_deliveries_task() -> dict:
    from .services import sweep_result_deliveries

    return sweep_result_deliveries()
