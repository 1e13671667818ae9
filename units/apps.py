from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = _("单位与人员")

    def ready(self):
        from .forms import install_filter_defaults

        install_filter_defaults()
