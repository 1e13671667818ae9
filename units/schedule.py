"""Periodic jobs of the units app (merged into CELERY_BEAT_SCHEDULE by settings)."""

BEAT_SCHEDULE = {
    "units-purge-auth-records": {"task": "units.tasks.purge_auth_records_task", "schedule": 3600.0},
}
