from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("回访评价")

    def ready(self) -> None:
        # Service-record files can also go through the feeds import engine (batches, report page).
        try:
            from feeds.imports import register_import_handler
        except ImportError:
            return
        from .imports import RECORD_HEADER_ALIASES

        register_import_handler("service_records", "surveys.imports.import_record_rows", aliases=RECORD_HEADER_ALIASES)
