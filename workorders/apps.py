from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkordersConfig(AppConfig):
    name = "workorders"
    verbose_name = _("工单办理")

    def ready(self) -> None:
        from intake import advisers

        from .services import propose_unit, template_reply

        # The desk's proposals (unit to dispatch to, public reply) come from this app's rules.
        advisers.register(unit=propose_unit, reply=template_reply)
