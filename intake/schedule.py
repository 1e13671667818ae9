"""Periodic jobs of the intake app (merged into CELERY_BEAT_SCHEDULE by settings)."""

BEAT_SCHEDULE = {
    "intake-sweep-risk-alerts": {"task": "intake.tasks.sweep_risk_alerts_task", "schedule": 60.0},
}
