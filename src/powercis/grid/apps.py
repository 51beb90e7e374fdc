"""Grid topology: substations, feeders (线路), transformer areas (台区) and their transformers, communities and buildings."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "powercis.grid"
    label = "grid"
    verbose_name = _("Grid")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import bulk  # noqa: F401  (registers the import/export specs)
        from .nav import register_menu

        register_menu()
