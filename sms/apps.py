from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    name = "sms"
    verbose_name = _("短信")

    def ready(self) -> None:
        # The tasks are published by name from sms.wake: register them in every process.
        from . import tasks  # noqa: F401
