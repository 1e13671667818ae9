"""Periodic jobs of the work-order app (merged into CELERY_BEAT_SCHEDULE by settings)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "workorders-urge": {"task": "workorders.tasks.urge_due_orders_task", "schedule": 60.0},
    "workorders-supervision": {"task": "workorders.tasks.apply_supervision_rules_task", "schedule": 900.0},
    "workorders-close-notices": {"task": "workorders.tasks.sweep_close_notices_task", "schedule": 300.0},
    "workorders-calendar": {"task": "workorders.tasks.check_calendar_task", "schedule": crontab(hour=8, minute=5)},
}
