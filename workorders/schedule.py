"""Periodic jobs of the work-order app (merged into CELERY_BEAT_SCHEDULE by settings)."""

import os

from celery.schedules import crontab

# Read from the environment directly: this module is imported while settings load.
URGE_INTERVAL = float(os.environ.get("WORKORDERS_URGE_INTERVAL", "60"))

BEAT_SCHEDULE = {
    "workorders-urge": {"task": "workorders.tasks.urge_due_orders_task", "schedule": URGE_INTERVAL},
    "workorders-supervision": {"task": "workorders.tasks.apply_supervision_rules_task", "schedule": 900.0},
    "workorders-close-notices": {"task": "workorders.tasks.sweep_close_notices_task", "schedule": 300.0},
    "workorders-calendar": {"task": "workorders.tasks.check_calendar_task", "schedule": crontab(hour=8, minute=5)},
}
