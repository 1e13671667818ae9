"""Periodic jobs of the SMS layer (merged into CELERY_BEAT_SCHEDULE by settings)."""

BEAT_SCHEDULE = {
    "sms-sweeper": {"task": "sms.tasks.sweep_sms_task", "schedule": 60.0},
}
