"""Menu entries of metering."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import NavItem, register, section

from .selectors import VIEW_PERMS

ASSET_VIEW = ("metering.view", "metering.edit", "metering.install")


def register_menu() -> None:
    section("metering", _("Metering"), "bi-speedometer2", 30)
    register("metering", NavItem(_("Metering points"), "metering:point_list", VIEW_PERMS))
    register("metering", NavItem(_("Meters"), "metering:meter_list", ASSET_VIEW))
    register("metering", NavItem(_("CT/PT"), "metering:transformer_list", ASSET_VIEW))
