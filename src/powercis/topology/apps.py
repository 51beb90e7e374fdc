"""Topology sits above grid, metering and customers: it reads all three and writes none of them."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TopologyConfig(AppConfig):
    name = "powercis.topology"
    label = "topology"
    verbose_name = _("Topology")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .account_panel import register_panel
        from .nav import register_menu

        register_menu()
        register_panel()
