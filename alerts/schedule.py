"""Periodic jobs of the early-warning app (merged into CELERY_BEAT_SCHEDULE by settings)."""

import os

# Read from the environment directly: this module is imported while settings load.
DETECT_INTERVAL = float(os.environ.get("ALERTS_DETECT_INTERVAL", "300"))

BEAT_SCHEDULE = {
    "alerts-detect": {"task": "alerts.tasks.run_detectors_task", "schedule": DETECT_INTERVAL},
}
