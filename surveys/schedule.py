"""Periodic jobs of the surveys app (merged into CELERY_BEAT_SCHEDULE by settings).

Imported while settings load, so the run time is read from the environment directly
(SURVEYS_EVALUATION_RUN_AT, local time HH:MM, default 08:30).
"""

import os

from celery.schedules import crontab

_hour, _minute = (int(x) for x in os.environ.get("SURVEYS_EVALUATION_RUN_AT", "08:30").split(":"))

BEAT_SCHEDULE = {
    "surveys-daily-evaluation-run": {
        "task": "surveys.tasks.run_evaluation_task",
        "schedule": crontab(hour=_hour, minute=_minute),
    },
    "surveys-overdue-callbacks": {"task": "surveys.tasks.warn_overdue_callbacks_task", "schedule": 300.0},
    "surveys-qr-bad-reviews": {"task": "surveys.tasks.rectify_bad_reviews_task", "schedule": 300.0},
}
