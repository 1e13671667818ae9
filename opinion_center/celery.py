"""The Celery application. Configuration comes from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_center.settings")

app = Celery("opinion_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
