"""Periodic jobs of the routing app (merged into CELERY_BEAT_SCHEDULE by settings)."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # At night: training reads up to 200k orders and must not compete with the day's desk.
    "routing-train": {"task": "routing.tasks.train_model_task", "schedule": crontab(hour=2, minute=30)},
    # The monthly hand-back figures are kept as orders move; this heals rows written in bulk.
    "routing-recount-handbacks": {
        "task": "routing.tasks.recount_handbacks_task",
        "schedule": crontab(hour=3, minute=10),
    },
    # Does nothing (one query) unless an administrator enabled auto-dispatch for a category.
    "routing-auto-dispatch": {"task": "routing.tasks.auto_dispatch_task", "schedule": 300.0},
}
