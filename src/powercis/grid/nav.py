"""Menu entries of the grid topology."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import NavItem, register, section

from .selectors import GRID_PERMS


def register_menu() -> None:
    section("grid", _("Grid"), "bi-diagram-2", 20)
    register("grid", NavItem(_("Substations"), "grid:substation_list", GRID_PERMS))
    register("grid", NavItem(_("Feeders"), "grid:feeder_list", GRID_PERMS))
    register("grid", NavItem(_("Transformer areas"), "grid:area_list", GRID_PERMS))
    register("grid", NavItem(_("Communities"), "grid:community_list", GRID_PERMS))
