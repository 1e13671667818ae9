from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("统计分析")

    def ready(self) -> None:
        # Analytics watches the facts of every app below it (they never import analytics).
        from . import signals

        signals.connect()
