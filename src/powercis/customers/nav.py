"""Menu entries of the customer archive."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import section


def register_menu() -> None:
    section("customers", _("Customers"), "bi-people", 10)
