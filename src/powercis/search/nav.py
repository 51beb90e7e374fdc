"""Menu entry of the archive search, under the customer archive."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import NavItem, register, section

from .selectors import SEARCH_PERMS


def register_menu() -> None:
    section("customers", _("Customers"), "bi-people", 10)
    register("customers", NavItem(_("Archive search"), "search:results", SEARCH_PERMS))
