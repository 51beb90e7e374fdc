"""Menu entries of the topology pages, in the grid section."""

from django.utils.translation import gettext_lazy as _

from powercis.core.nav import NavItem, register, section
from powercis.grid.selectors import GRID_PERMS


def register_menu() -> None:
    section("grid", _("Grid"), "bi-diagram-2", 20)
    register("grid", NavItem(_("Topology browser"), "topology:browser", GRID_PERMS))
    register("grid", NavItem(_("Topology faults"), "topology:faults", GRID_PERMS))
    register("grid", NavItem(_("Map"), "topology:map", GRID_PERMS))
