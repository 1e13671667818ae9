"""Periodic jobs of the analytics app (merged into CELERY_BEAT_SCHEDULE by settings).

One hourly job makes whatever is due and missing: yesterday's daily summary, last week's
analysis, last month's bulletin and last month's draft rankings. Each is unique per period, so
the job may run any number of times, and a run missed while the worker was down is caught up by
the next one. The daily aggregates are refreshed every minute (marked buckets) and the last days
recomputed in full every night.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "analytics-bulletins": {"task": "analytics.tasks.generate_due_bulletins_task", "schedule": crontab(minute=10)},
    # Daily aggregates: marked buckets every minute, the last days in full every night.
    "analytics-aggregates": {"task": "analytics.tasks.refresh_aggregates_task", "schedule": 60.0},
    "analytics-aggregates-nightly": {
        "task": "analytics.tasks.nightly_aggregates_task",
        "schedule": crontab(hour=1, minute=30),
    },
}
