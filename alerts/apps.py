from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("预警")

    def ready(self) -> None:
        # The receivers that mark the surge baseline's counted days stale when an appeal changes.
        from . import signals

        signals.connect()
