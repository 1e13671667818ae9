"""Periodic jobs of the feeds app (merged into CELERY_BEAT_SCHEDULE by settings)."""

BEAT_SCHEDULE = {
    "feeds-sweep-result-deliveries": {"task": "feeds.tasks.sweep_result_deliveries_task", "schedule": 60.0},
    "feeds-sweep-import-batches": {"task": "feeds.tasks.sweep_import_batches_task", "schedule": 60.0},
}
