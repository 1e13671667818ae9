"""Celery tasks of the units app: thin; the database rows are the truth."""

from __future__ import annotations

from celery import shared_task


@shared_task
def purge_auth_records_task() -> dict[str, int]:
    from .services import purge_auth_records

    return purge_auth_records()
