"""The Celery application. Configuration comes from Django settings under the CELERY_ namespace."""

import gc
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

app = Celery("opinion_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def mask_personal_data(logger, **kwargs):
    """Handlers a worker installs itself (the task logger's) mask phones like those of LOGGING."""
    from units.logging import mask_handlers

    mask_handlers(logger)


@worker_ready.connect
@worker_process_init.connect
def freeze_loaded_objects(**kwargs):
    """What the worker loaded lives as long as it: out of the cyclic collector's full walks, as in
    the web workers (``gunicorn.conf.py``). ``worker_ready`` for the solo pool's one process,
    ``worker_process_init`` for each prefork child."""
    gc.freeze()
