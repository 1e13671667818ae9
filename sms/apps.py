from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    name = "sms"
    verbose_name = _("短信")

    def ready(self) -> None:
        # The tasks are published by name from sms.wake: register them in every process.
        # 受理短信: every appeal received (any writer of Appeal rows), after the row is inserted.
        from django.db.models.signals import post_save

        from intake.models import Appeal

        from . import tasks  # noqa: F401

        post_save.connect(_appeal_saved, sender=Appeal, weak=False, dispatch_uid="sms-appeal-receipt")


def _appeal_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        from .services import notify_receipt

        notify_receipt(instance)
