"""Metering: metering points (计量点), meters and instrument transformers, and their install/remove history."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    name = "powercis.metering"
    label = "metering"
    verbose_name = _("Metering")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import closing_checks  # noqa: F401  (an account with an installed meter cannot close)
        from . import bulk  # noqa: F401  (registers the import/export specs)
        from .account_panel import register_panel
        from .nav import register_menu

        register_menu()
        register_panel()
