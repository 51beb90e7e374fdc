"""Menu entries of the grid topology."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import section


def register_menu() -> None:
    section("grid", _("Grid"), "bi-diagram-2", 20)
