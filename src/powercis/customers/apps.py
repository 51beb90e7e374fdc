"""Customers: customer, account (户号) with effective-dated billing attributes, account changes, supply contracts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "powercis.customers"
    label = "customers"
    verbose_name = _("Customers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import workflow_types  # noqa: F401  (registers the account change document type)
        from . import bulk  # noqa: F401  (registers the import/export specs)
        from .account_panels import register_panels
        from .nav import register_menu

        register_menu()
        register_panels()
