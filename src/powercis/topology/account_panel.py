"""The map section of the account 360 page: the account's point, its transformer area and feeder."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from powercis.customers.panels import Panel, register
from powercis.grid.selectors import GRID_PERMS


def _context(request, account):
    return {}


def register_panel() -> None:
    register(Panel("map", _("Map"), "topology/panels/map.html", 35, _context, permissions=GRID_PERMS))
