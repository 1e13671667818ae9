from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("回访评价")

    def ready(self) -> None:
        from feeds.imports import register_import_handler
        from sms.signals import inbound_received

        from .imports import RECORD_HEADER_ALIASES
        from .services.replies import read_reply

        # Service-record files can also go through the feeds import engine (batches, report page).
        register_import_handler("service_records", "surveys.imports.import_record_rows", aliases=RECORD_HEADER_ALIASES)
        # Citizens' replies to evaluation, follow-up and closure SMS become ratings here.
        inbound_received.connect(read_reply, dispatch_uid="surveys.read_reply")
