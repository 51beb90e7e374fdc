"""Meter reading and data collection (抄表与采集): routes, plans, register reads, validation, collection."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadingConfig(AppConfig):
    name = "powercis.reading"
    label = "reading"
    verbose_name = _("Meter reading")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .account_panel import register_panel
        from .views.indicators import register_card
        from .nav import register_menu
        from .work_orders import register_work_orders

        register_menu()
        register_work_orders()
        register_panel()
        register_card()
