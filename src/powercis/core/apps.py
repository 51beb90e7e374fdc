"""Core: orgs, staff, posts and permissions, data scope, separation of duties, approvals, audit trail, code tables."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "powercis.core"
    label = "core"
    verbose_name = _("Core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals, workflow_types  # noqa: F401  (registration side effects)
        from .nav import register_core_menu

        register_core_menu()
