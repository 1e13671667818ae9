from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("智能派单建议")

    def ready(self) -> None:
        # The receiver that records which proposal a dispatch followed.
        from . import signals  # noqa: F401
