"""Archive search: one box that finds an account by number, name, address, meter asset number or phone digits."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "powercis.search"
    label = "search"
    verbose_name = _("Search")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from powercis.customers.signals import accounts_changed

        from .indexing import on_accounts_changed
        from .nav import register_menu

        accounts_changed.connect(on_accounts_changed, dispatch_uid="powercis.search.refresh")
        register_menu()
