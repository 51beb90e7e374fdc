"""Menu entries of the customer archive."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import NavItem, register, section

VIEW = ("customers.view", "customers.edit", "customers.change_request", "customers.change_approve")


def register_menu() -> None:
    section("customers", _("Customers"), "bi-people", 10)
    register("customers", NavItem(_("Accounts"), "customers:account_list", VIEW))
    register("customers", NavItem(_("Customers"), "customers:customer_list", VIEW))
    register("customers", NavItem(_("Account changes"), "customers:change_list",
                                  ("customers.change_request", "customers.change_approve")))
    register("customers", NavItem(_("Supply contracts"), "customers:contract_list",
                                  ("customers.view", "customers.manage_contracts")))
