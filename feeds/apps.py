from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = _("外部数据对接")

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI description of the feed key
        from .appeal_import import import_appeal_rows
        from .imports import APPEAL_HEADER_ALIASES, register_import_handler

        register_import_handler("appeals", import_appeal_rows, aliases=APPEAL_HEADER_ALIASES)
