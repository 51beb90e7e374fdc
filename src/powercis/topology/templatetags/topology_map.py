"""``{% map_settings %}``: what every map on a page needs to know — the tile server (if any) and its labels."""

from __future__ import annotations

import json

from django import template
from django.conf import settings
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def map_settings() -> str:
    """JSON for a ``data-map-settings`` attribute (autoescaped by the template)."""
    return json.dumps({
        "tileUrl": settings.POWERCIS_MAP_TILE_URL,
        "tileAttribution": settings.POWERCIS_MAP_TILE_ATTRIBUTION,
        "labels": {
            "feeders": _("Feeders"), "areas": _("Transformer areas"), "communities": _("Communities"),
            "buildings": _("Buildings"), "accounts": _("Accounts"), "substation": _("Substation"),
            "open": _("Open record"), "truncated": _("Not everything is shown here: zoom in to see all of it."),
            "loadFailed": _("The map layer could not be loaded."), "noLocation": _("No location is recorded."),
            "capacity": _("Capacity (kVA)"), "feeder": _("Feeder"), "status": _("Status"),
            "ownership": _("Ownership"), "community": _("Community"), "address": _("Address"),
            "voltage": _("Voltage level"),
        },
    }, ensure_ascii=False)
